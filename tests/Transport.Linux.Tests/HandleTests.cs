using System;
using System.Collections.Generic;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Descriptors that travel with messages: order, the 253-per-control-message boundary (the side channel), the
/// per-message maximum, and ownership rules.
/// </summary>
public class HandleTests
{
    /// <summary>
    /// One SCM_RIGHTS message carries at most 253 descriptors; beyond that the rest goes over a side channel whose
    /// end takes the last slot. Inline bodies: 252/253 fit, 254 do not. Memfd bodies add one descriptor.
    /// </summary>
    [Theory]
    [InlineData(252, false)]
    [InlineData(253, false)]
    [InlineData(254, false)]
    [InlineData(505, false)]
    [InlineData(506, false)]
    [InlineData(507, false)]
    [InlineData(251, true)]
    [InlineData(252, true)]
    [InlineData(253, true)]
    [InlineData(254, true)]
    public void Channels_AroundControlMessageLimit_AllArriveInOrder(int count, bool memfdBody)
    {
        var ends = new List<(TransportSender Tx, TransportReceiver Rx)>();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        try
        {
            for (int i = 0; i < count; i++)
            {
                ends.Add(T.CreateChannel());
            }

            int size = memfdBody ? Frames.MaxInlineBody + 1 : 10;
            var senders = ends.ConvertAll(e => (TransportChannelEnd)e.Tx).ToArray();
            tx.Send(Payload.Pattern(size), senders, default);
            (byte[] payload, ReceivedHandles? handles) = rx.ReceiveMessage();
            Payload.AssertPattern(payload, size);
            using (handles)
            {
                Assert.Equal(count, handles!.ChannelCount);
                for (int i = 0; i < count; i++)
                {
                    using TransportSender received = handles.TakeChannel(i).ToSender();
                    received.Send(BitConverter.GetBytes(i));
                }
            }

            for (int i = 0; i < count; i++)
            {
                Assert.Equal(i, BitConverter.ToInt32(ends[i].Rx.ReceiveBytes()));
            }
        }
        finally
        {
            tx.Dispose();
            rx.Dispose();
            ends.ForEach(e =>
            {
                e.Tx.Dispose();
                e.Rx.Dispose();
            });
        }
    }

    [Fact]
    public void ChannelsAndRegions_Mixed_KeepTheirOrder()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender aTx, TransportReceiver aRx) = T.CreateChannel();
        (TransportSender bTx, TransportReceiver bRx) = T.CreateChannel();
        using TransportSharedMemory first = T.CreateSharedMemory(Payload.Pattern(5000, seed: 1));
        using TransportSharedMemory second = T.CreateSharedMemory(Payload.Pattern(7, seed: 2));
        using TransportSharedMemory third = T.CreateSharedMemory(ReadOnlySpan<byte>.Empty);
        using (tx)
        using (rx)
        using (aTx)
        using (aRx)
        using (bRx)
        {
            tx.Send("mixed"u8, [aTx, bRx], [first, second, third]);
            bRx.Dispose();
            (_, ReceivedHandles? handles) = rx.ReceiveMessage();
            using (handles)
            {
                Assert.Equal(2, handles!.ChannelCount);
                Assert.Equal(3, handles.RegionCount);
                using TransportSharedMemory r2 = handles.TakeRegion(2);
                using TransportSharedMemory r0 = handles.TakeRegion(0);
                using TransportSharedMemory r1 = handles.TakeRegion(1);
                Payload.AssertPattern(r0.Span, 5000, seed: 1);
                Payload.AssertPattern(r1.Span, 7, seed: 2);
                Assert.Equal(0, r2.Length);
                Assert.True(r2.Span.IsEmpty);

                using TransportSender a = handles.TakeChannel(0).ToSender();
                using TransportReceiver b = handles.TakeChannel(1).ToReceiver();
                a.Send("to a"u8);
                bTx.Send("to b"u8);
                Assert.Equal("to a"u8.ToArray(), aRx.ReceiveBytes());
                Assert.Equal("to b"u8.ToArray(), b.ReceiveBytes());
            }

            bTx.Dispose();
        }
    }

    /// <summary>Rust #395 / servo #36792: more than 64 shared-memory regions in one message crashed the receiver.</summary>
    [Fact]
    public void Regions_ThreeHundredInOneMessage_ArriveMappedInOrder()
    {
        var regions = new TransportSharedMemory[300];
        for (int i = 0; i < regions.Length; i++)
        {
            regions[i] = T.CreateSharedMemory(Payload.Pattern(100 + i, seed: i));
        }

        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        try
        {
            tx.Send("regions"u8, default, regions);
            (_, ReceivedHandles? handles) = rx.ReceiveMessage();
            using (handles)
            {
                Assert.Equal(300, handles!.RegionCount);
                for (int i = 0; i < 300; i++)
                {
                    using TransportSharedMemory region = handles.TakeRegion(i);
                    Payload.AssertPattern(region.Span, 100 + i, seed: i);
                }
            }
        }
        finally
        {
            tx.Dispose();
            rx.Dispose();
            Array.ForEach(regions, r => r.Dispose());
        }
    }

    [Fact]
    public void Channels_FiveThousandInOneMessage_ArriveThroughSideChannel()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            var many = new TransportChannelEnd[5000];
            Array.Fill(many, subTx);
            tx.Send(Payload.Pattern(300_000), many, default);
            (byte[] payload, ReceivedHandles? handles) = rx.ReceiveMessage();
            Payload.AssertPattern(payload, 300_000);
            using (handles)
            {
                Assert.Equal(5000, handles!.ChannelCount);
                using TransportSender last = handles.TakeChannel(4999).ToSender();
                last.Send("last"u8);
            }

            Assert.Equal("last"u8.ToArray(), subRx.ReceiveBytes());
        }
    }

    [Fact]
    public void Send_MoreHandlesThanMessageMaximum_RefusedAndNothingSent()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            var tooMany = new TransportChannelEnd[Frames.MaxFdsPerMessage];
            Array.Fill(tooMany, subTx);
            IpcException error = Assert.Throws<IpcException>(() => tx.Send("x"u8, tooMany, default));
            Assert.Contains("at most", error.Message, StringComparison.Ordinal);
            rx.AssertEmpty();
            tx.Send("after"u8);
            Assert.Equal("after"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact]
    public void Send_WithDisposedHandle_ThrowsObjectDisposedAndSendsNothing()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender good, TransportReceiver goodRx) = T.CreateChannel();
        (TransportSender gone, TransportReceiver goneRx) = T.CreateChannel();
        TransportSharedMemory goneRegion = T.CreateSharedMemory("x"u8);
        gone.Dispose();
        goneRegion.Dispose();
        using (tx)
        using (rx)
        using (good)
        using (goodRx)
        using (goneRx)
        {
            Assert.Throws<ObjectDisposedException>(() => tx.Send("x"u8, [good, gone], default));
            Assert.Throws<ObjectDisposedException>(() => tx.Send(new byte[300_000], [good], [goneRegion]));
            rx.AssertEmpty();

            // The handles referenced before the failure were released: "good" still works and closes normally.
            good.Send("fine"u8);
            Assert.Equal("fine"u8.ToArray(), goodRx.ReceiveBytes());
            good.Dispose();
            goodRx.AssertClosed();
        }
    }

    [Fact]
    public void Send_ForeignChannelEnd_ThrowsArgumentException()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            Assert.Throws<ArgumentException>(() => tx.Send("x"u8, [new ForeignEnd()], default));
            rx.AssertEmpty();
        }
    }

    /// <summary>Rust (unix backend): handles still in flight inside an unread message keep their channel open.</summary>
    [Fact]
    public void InFlightSender_KeepsChannelOpenUntilReceivedAndClosed()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subRx)
        {
            tx.Send("carrier"u8, [subTx], default);
            subTx.Dispose();
            subRx.AssertEmpty(); // not closed: a copy of the sender is in flight

            (_, ReceivedHandles? handles) = rx.ReceiveMessage();
            subRx.AssertEmpty();
            handles!.Dispose(); // never claimed: closed by the side list
            subRx.AssertClosed();
        }
    }

    /// <summary>Rust: cross_process_two_step_transfer, in one process (receivers with queued messages that carry receivers).</summary>
    [Fact]
    [Trait("Rust", "cross_process_two_step_transfer")]
    public void TwoStepTransfer_ReceiverQueuedInsideMovedReceiver_DeliversCookie()
    {
        (TransportSender tx1, TransportReceiver rx1) = T.CreateChannel();
        (TransportSender tx2, TransportReceiver rx2) = T.CreateChannel();
        (TransportSender tx3, TransportReceiver rx3) = T.CreateChannel();
        using (tx1)
        using (tx2)
        using (tx3)
        using (rx3)
        {
            tx1.Send("cookie"u8);
            tx2.Send(default, [rx1], default);
            rx1.Dispose();
            tx3.Send(default, [rx2], default);
            rx2.Dispose();

            (_, ReceivedHandles? h3) = rx3.ReceiveMessage();
            using (h3)
            using (TransportReceiver outer = h3!.TakeChannel(0).ToReceiver())
            {
                (_, ReceivedHandles? h2) = outer.ReceiveMessage();
                using (h2)
                using (TransportReceiver inner = h2!.TakeChannel(0).ToReceiver())
                {
                    Assert.Equal("cookie"u8.ToArray(), inner.ReceiveBytes());
                }
            }
        }
    }

    private sealed class ForeignEnd : TransportChannelEnd
    {
        public override bool IsDisposed => false;

        public override void Dispose()
        {
        }
    }
}
