using System;
using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>Round trips, handle transfer and the receive variants (Rust: platform/test.rs "transfer basics").</summary>
public class BasicTransferTests
{
    [Fact]
    [Trait("Rust", "simple")]
    public void Simple_SevenBytes_RoundTripWithoutHandles()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send("1234567"u8);
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Message, rx.TryReceive(buffer, out ReceivedHandles? handles));
            Assert.Null(handles);
            Assert.Equal("1234567", Encoding.ASCII.GetString(buffer.WrittenSpan));
        }
    }

    [Fact]
    [Trait("Rust", "sender_transfer")]
    public void SenderTransfer_SenderInMessage_ReceivedSenderDelivers()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            tx.Send(Payload.Pattern(7), [subTx], default);
            (byte[] payload, ReceivedHandles? handles) = rx.ReceiveMessage();
            Payload.AssertPattern(payload, 7);
            Assert.NotNull(handles);
            using (handles)
            {
                Assert.Equal(1, handles.ChannelCount);
                Assert.Equal(0, handles.RegionCount);
                using TransportSender received = handles.TakeChannel(0).ToSender();
                Assert.True(handles.AllClaimed);
                received.Send(Payload.Pattern(7, seed: 3));
            }

            Payload.AssertPattern(subRx.ReceiveBytes(), 7, seed: 3);
        }
    }

    [Fact]
    [Trait("Rust", "receiver_transfer")]
    public void ReceiverTransfer_ReceiverInMessage_MessagesArriveAtMovedEnd()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        {
            tx.Send("here"u8, [subRx], default);
            subRx.Dispose(); // a move: the caller disposes its end after a successful send
            (byte[] payload, ReceivedHandles? handles) = rx.ReceiveMessage();
            Assert.Equal("here"u8.ToArray(), payload);
            using (handles)
            using (TransportReceiver moved = handles!.TakeChannel(0).ToReceiver())
            {
                subTx.Send(Payload.Pattern(1000));
                Payload.AssertPattern(moved.ReceiveBytes(), 1000);
            }
        }
    }

    [Fact]
    [Trait("Rust", "multisender_transfer")]
    public void MultisenderTransfer_TwoSenders_ArriveInOrderAndBothWork()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender aTx, TransportReceiver aRx) = T.CreateChannel();
        (TransportSender bTx, TransportReceiver bRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (aTx)
        using (aRx)
        using (bTx)
        using (bRx)
        {
            tx.Send("two"u8, [aTx, bTx], default);
            (_, ReceivedHandles? handles) = rx.ReceiveMessage();
            using (handles)
            {
                Assert.Equal(2, handles!.ChannelCount);
                using TransportSender first = handles.TakeChannel(0).ToSender();
                using TransportSender second = handles.TakeChannel(1).ToSender();
                first.Send("a"u8);
                second.Send("b"u8);
            }

            Assert.Equal("a"u8.ToArray(), aRx.ReceiveBytes());
            Assert.Equal("b"u8.ToArray(), bRx.ReceiveBytes());
        }
    }

    [Fact]
    [Trait("Rust", "empty")]
    public void Empty_ZeroBytesNoHandles_ArrivesAsMessage()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send(ReadOnlySpan<byte>.Empty);
            Assert.Empty(rx.ReceiveBytes());
            rx.AssertEmpty();
        }
    }

    [Fact]
    [Trait("Rust", "fd_only")]
    public void FdOnly_ZeroBytesOneSender_ArrivesWithHandle()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            tx.Send(ReadOnlySpan<byte>.Empty, [subTx], default);
            (byte[] payload, ReceivedHandles? handles) = rx.ReceiveMessage();
            Assert.Empty(payload);
            using (handles)
            using (TransportSender received = handles!.TakeChannel(0).ToSender())
            {
                received.Send("x"u8);
            }

            Assert.Equal("x"u8.ToArray(), subRx.ReceiveBytes());
        }
    }

    [Fact]
    [Trait("Rust", "try_recv")]
    public void TryReceive_EmptyThenMessageThenEmpty()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Empty, rx.TryReceive(buffer, out _));
            tx.Send("1234567"u8);
            Assert.Equal(ReceiveStatus.Message, rx.TryReceive(buffer, out ReceivedHandles? handles));
            Assert.Null(handles);
            Assert.Equal("1234567"u8.ToArray(), buffer.WrittenSpan.ToArray());
            Assert.Equal(ReceiveStatus.Empty, rx.TryReceive(buffer, out _));
            Assert.Equal(7, buffer.WrittenCount);
        }
    }

    [Fact]
    [Trait("Rust", "try_recv_timeout")]
    public void Receive_TimeoutOnEmptyChannel_WaitsThenReturnsEmpty()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            var clock = Stopwatch.StartNew();
            Assert.Equal(ReceiveStatus.Empty, rx.Receive(TimeSpan.FromMilliseconds(100), buffer, out ReceivedHandles? handles));
            clock.Stop();
            Assert.Null(handles);
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(99), TimeSpan.FromSeconds(10));
            Assert.Equal(0, buffer.WrittenCount);
        }
    }

    [Fact]
    [Trait("Rust", "try_recv_timeout")]
    public void Receive_TimeoutWithQueuedMessage_ReturnsAtOnce()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send("queued"u8);
            var buffer = new ArrayBufferWriter<byte>();
            var clock = Stopwatch.StartNew();
            Assert.Equal(ReceiveStatus.Message, rx.Receive(TimeSpan.FromSeconds(30), buffer, out _));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
            Assert.Equal("queued"u8.ToArray(), buffer.WrittenSpan.ToArray());
        }
    }

    [Fact]
    public void Receive_ZeroTimeout_BehavesLikeTryReceive()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Empty, rx.Receive(TimeSpan.Zero, buffer, out _));
            tx.Send("now"u8);
            Assert.Equal(ReceiveStatus.Message, rx.Receive(TimeSpan.Zero, buffer, out _));
            Assert.Equal("now"u8.ToArray(), buffer.WrittenSpan.ToArray());
        }
    }

    [Fact]
    public void Receive_NegativeTimeout_Throws()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => rx.Receive(TimeSpan.FromSeconds(-2), new ArrayBufferWriter<byte>(), out _));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Receive_InfiniteTimeout_WakesWhenAnotherThreadSends()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task<byte[]> receiving = Task.Factory.StartNew(
                () =>
                {
                    started.SetResult();
                    var buffer = new ArrayBufferWriter<byte>();
                    Assert.Equal(ReceiveStatus.Message, rx.Receive(Timeout.InfiniteTimeSpan, buffer, out _));
                    return buffer.WrittenSpan.ToArray();
                },
                TaskCreationOptions.LongRunning);
            await started.Task.WithTimeout();
            tx.Send(Payload.Pattern(5000));
            Payload.AssertPattern(await receiving.WithTimeout(), 5000);
        }
    }

    [Fact]
    public void Receive_IntoBufferWithData_AppendsPayload()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            buffer.Write("abc"u8);
            tx.Send("xyz"u8);
            tx.Send(Payload.Pattern(300_000)); // memfd body
            Assert.Equal(ReceiveStatus.Message, rx.TryReceive(buffer, out _));
            Assert.Equal(ReceiveStatus.Message, rx.TryReceive(buffer, out _));
            Assert.Equal("abcxyz"u8.ToArray(), buffer.WrittenSpan[..6].ToArray());
            Payload.AssertPattern(buffer.WrittenSpan[6..], 300_000);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_QueuedMessage_CompletesSynchronously()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send("ready"u8);
            var buffer = new ArrayBufferWriter<byte>();
            ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = rx.ReceiveAsync(buffer, CancellationToken.None);
            Assert.True(pending.IsCompletedSuccessfully);
            (ReceiveStatus status, ReceivedHandles? handles) = await pending;
            Assert.Equal(ReceiveStatus.Message, status);
            Assert.Null(handles);
            Assert.Equal("ready"u8.ToArray(), buffer.WrittenSpan.ToArray());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_MessageSentLater_CompletesWithItAndItsHandles()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = rx.ReceiveAsync(buffer, CancellationToken.None);
            Assert.False(pending.IsCompleted);
            tx.Send(Payload.Pattern(200_000), [subTx], default);
            (ReceiveStatus status, ReceivedHandles? handles) = await pending.WithTimeout();
            Assert.Equal(ReceiveStatus.Message, status);
            Payload.AssertPattern(buffer.WrittenSpan, 200_000);
            using (handles)
            {
                Assert.Equal(1, handles!.ChannelCount);
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_ManyMessagesInSequence_AllArriveInOrder()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            const int Count = 500;
            Task producer = Task.Run(async () =>
            {
                for (int i = 0; i < Count; i++)
                {
                    await tx.SendAsync(Payload.Pattern(i * 37 % 3000, seed: i), default, default, CancellationToken.None);
                }
            });
            var buffer = new ArrayBufferWriter<byte>();
            for (int i = 0; i < Count; i++)
            {
                buffer.ResetWrittenCount();
                (ReceiveStatus status, _) = await rx.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
                Assert.Equal(ReceiveStatus.Message, status);
                Payload.AssertPattern(buffer.WrittenSpan, i * 37 % 3000, seed: i);
            }

            await producer.WithTimeout();
        }
    }

    [Fact]
    public void Send_ThousandMessagesOneThread_ArriveInFifoOrder()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            // Batches below the socket's queue limit (about 278 small datagrams), so one thread can do both sides.
            for (int batch = 0; batch < 10; batch++)
            {
                for (int i = 0; i < 100; i++)
                {
                    int seq = (batch * 100) + i;
                    tx.Send(Payload.Pattern(seq % 700, seed: seq));
                }

                for (int i = 0; i < 100; i++)
                {
                    int seq = (batch * 100) + i;
                    Payload.AssertPattern(rx.ReceiveBytes(), seq % 700, seed: seq);
                }
            }

            rx.AssertEmpty();
        }
    }

    [Fact]
    public void Clone_SendsOnSameChannel_AndOutlivesOriginal()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            TransportSender clone = tx.Clone();
            Assert.NotEqual(tx.Fd().Number(), clone.Fd().Number());
            tx.Send("original"u8);
            tx.Dispose();
            Assert.True(tx.IsDisposed);
            using (clone)
            {
                clone.Send("clone"u8);
                Assert.Equal("original"u8.ToArray(), rx.ReceiveBytes());
                Assert.Equal("clone"u8.ToArray(), rx.ReceiveBytes());
                rx.AssertEmpty();
            }

            rx.AssertClosed();
        }
    }

    [Fact]
    [Trait("Rust", "multiple_paths_to_a_sender")]
    public void Send_SameSenderThreeTimes_ArrivesAsThreeWorkingSenders()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            tx.Send("3"u8, [subTx, subTx, subTx], default);
            (_, ReceivedHandles? handles) = rx.ReceiveMessage();
            using (handles)
            {
                Assert.Equal(3, handles!.ChannelCount);
                for (int i = 0; i < 3; i++)
                {
                    using TransportSender received = handles.TakeChannel(i).ToSender();
                    received.Send([(byte)i]);
                }
            }

            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(new[] { (byte)i }, subRx.ReceiveBytes());
            }
        }
    }

    [Fact]
    [Trait("Rust", "transfer_closed_sender")]
    public void Send_SenderWhoseReceiverIsGone_CanStillBeTransferred()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender orphan, TransportReceiver orphanRx) = T.CreateChannel();
        orphanRx.Dispose();
        using (tx)
        using (rx)
        using (orphan)
        {
            tx.Send("orphan"u8, [orphan], default);
            (_, ReceivedHandles? handles) = rx.ReceiveMessage();
            using (handles)
            using (TransportSender received = handles!.TakeChannel(0).ToSender())
            {
                Assert.Throws<IpcDisconnectedException>(() => received.Send("x"u8));
            }
        }
    }

    [Fact]
    [Trait("Rust", "clone_sender_after_receiver_dropped")]
    public void Clone_AfterReceiverDropped_Succeeds()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        rx.Dispose();
        using (tx)
        using (TransportSender clone = tx.Clone())
        {
            Assert.False(clone.IsDisposed);
        }
    }

    [Fact]
    public void ReceivedChannel_ConvertedTwice_Throws()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            tx.Send(default, [subTx], default);
            (_, ReceivedHandles? handles) = rx.ReceiveMessage();
            using (handles)
            {
                TransportReceivedChannel channel = handles!.TakeChannel(0);
                using TransportSender sender = channel.ToSender();
                Assert.Throws<ObjectDisposedException>(() => channel.ToReceiver());
                Assert.Throws<IpcSerializationException>(() => handles.TakeChannel(0));
                Assert.Throws<IpcSerializationException>(() => handles.TakeChannel(1));
                Assert.Throws<IpcSerializationException>(() => handles.TakeRegion(0));
            }
        }
    }
}
