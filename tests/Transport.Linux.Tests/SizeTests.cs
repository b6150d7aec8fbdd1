using System;
using System.Buffers;
using System.Collections.Generic;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Message sizes from 0 bytes to 50 MiB and the inline/memfd boundary (Rust: platform/test.rs "sizes and
/// fragmentation"; this transport's "fragment size" is <see cref="Frames.MaxInlineBody"/>: a body above it travels
/// in a sealed memfd instead of being fragmented).
/// </summary>
public class SizeTests
{
    private const int Limit = Frames.MaxInlineBody;
    private const int MiB = 1024 * 1024;

    public static TheoryData<int> Sizes => new()
    {
        0, 1, 7, 8, 15, 16, 17, 255, 256, 257, 4096, 65_536, Limit - 1, Limit, Limit + 1, Frames.MaxDatagram, 212_960, 1 * MiB, 8 * MiB,
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    [Trait("Rust", "medium_data")]
    public void Transfer_Size_RoundTripsOnOneThread(int size)
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send(Payload.Pattern(size, seed: size));
            Payload.AssertPattern(rx.ReceiveBytes(), size, seed: size);
            rx.AssertEmpty();
        }
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Sizes))]
    public async Task TransferAsync_Size_RoundTrips(int size)
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = rx.ReceiveAsync(buffer, default);
            await tx.SendAsync(Payload.Pattern(size, seed: 1), default, default, default).WithTimeout();
            (ReceiveStatus status, ReceivedHandles? handles) = await pending.WithTimeout();
            Assert.Equal(ReceiveStatus.Message, status);
            Assert.Null(handles);
            Payload.AssertPattern(buffer.WrittenSpan, size, seed: 1);
        }
    }

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "big_data")]
    public async Task BigData_OneMiBFromAnotherThread_ArrivesIntact()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            Task sending = Task.Run(() => tx.Send(Payload.Pattern(MiB)));
            Payload.AssertPattern(rx.ReceiveBytes(), MiB);
            await sending.WithTimeout();
        }
    }

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "huge_data")]
    public async Task HugeData_50To46MiBSequenceFromAnotherThread_ArriveIntact()
    {
        int[] sizes = [50 * MiB, 46 * MiB, 49 * MiB, 47 * MiB, 48 * MiB];
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            Task sending = Task.Run(() =>
            {
                byte[] data = Payload.Pattern(50 * MiB);
                foreach (int size in sizes)
                {
                    tx.Send(data.AsSpan(0, size));
                }
            });
            var buffer = new ArrayBufferWriter<byte>(50 * MiB);
            foreach (int size in sizes)
            {
                buffer.ResetWrittenCount();
                Assert.Equal(ReceiveStatus.Message, rx.Receive(ReceiveBound, buffer, out ReceivedHandles? handles));
                Assert.Null(handles);
                Payload.AssertPattern(buffer.WrittenSpan, size);
            }

            await sending.WithTimeout();
        }
    }

    [Fact]
    public void HugeData_SendAndReceiveOnOneThread_DoesNotDeadlock()
    {
        // Rust deadlocks here (#101, servo #14704): its big messages wait for the reader. A memfd body does not.
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send(Payload.Pattern(16 * MiB, seed: 9));
            tx.Send(Payload.Pattern(3 * MiB, seed: 10));
            Payload.AssertPattern(rx.ReceiveBytes(), 16 * MiB, seed: 9);
            Payload.AssertPattern(rx.ReceiveBytes(), 3 * MiB, seed: 10);
        }
    }

    public static TheoryData<int, int> BoundaryCases()
    {
        var data = new TheoryData<int, int>();
        foreach (int fds in new[] { 0, 1, 2, 3, 4, 5, 6, 64, 300 })
        {
            foreach (int delta in new[] { -1, 0, 1 })
            {
                data.Add(delta, fds);
            }
        }

        return data;
    }

    /// <summary>
    /// Rust: fragment_tests::full_packet, full_packet_with_N_fds (N = 1…6, 64), overfull_packet,
    /// overfull_packet_with_63_fds; here at the inline limit −1/0/+1 (0: a datagram of exactly
    /// <see cref="Frames.MaxDatagram"/> bytes) with 0 to 6, 64 and 300 senders (300 needs the
    /// side channel). Each transferred sender then carries a limit-sized message of its own, like Rust's
    /// big_data_with_N_fds.
    /// </summary>
    [Theory]
    [MemberData(nameof(BoundaryCases))]
    [Trait("Rust", "fragment_tests::full_packet_with_N_fds")]
    public void InlineLimit_PlusMinusOneWithSenders_RoundTripsAndSendersWork(int delta, int fds)
    {
        TransferWithSenders(Limit + delta, fds);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [Trait("Rust", "big_data_with_N_fds")]
    public void BigData_OneMiBWithSenders_RoundTripsAndSendersWork(int fds)
    {
        TransferWithSenders(MiB, fds);
    }

    private static void TransferWithSenders(int size, int fds)
    {
        var senders = new List<TransportSender>();
        var receivers = new List<TransportReceiver>();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        try
        {
            for (int i = 0; i < fds; i++)
            {
                (TransportSender s, TransportReceiver r) = T.CreateChannel();
                senders.Add(s);
                receivers.Add(r);
            }

            tx.Send(Payload.Pattern(size, seed: fds), senders.ToArray(), default);
            (byte[] payload, ReceivedHandles? handles) = rx.ReceiveMessage();
            Payload.AssertPattern(payload, size, seed: fds);
            if (fds == 0)
            {
                Assert.Null(handles);
                return;
            }

            using (handles)
            {
                Assert.Equal(fds, handles!.ChannelCount);
                Assert.Equal(0, handles.RegionCount);
                for (int i = 0; i < fds; i++)
                {
                    using TransportSender received = handles.TakeChannel(i).ToSender();
                    int length = i % 50 == 0 ? Limit : 4;
                    received.Send(Payload.Pattern(length, seed: i));
                }
            }

            for (int i = 0; i < fds; i++)
            {
                Payload.AssertPattern(receivers[i].ReceiveBytes(), i % 50 == 0 ? Limit : 4, seed: i);
            }
        }
        finally
        {
            tx.Dispose();
            rx.Dispose();
            senders.ForEach(s => s.Dispose());
            receivers.ForEach(r => r.Dispose());
        }
    }

    /// <summary>
    /// The region table (one u32 per region) follows the payload in the body, so the body limit is payload + 4·r:
    /// messages on either side of it must round-trip with the right region lengths.
    /// </summary>
    [Theory]
    [InlineData(1, -1)]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(3, -1)]
    [InlineData(3, 0)]
    [InlineData(3, 1)]
    public void RegionTable_BodyAroundInlineLimit_RoundTrips(int regions, int delta)
    {
        int size = Limit - (4 * regions) + delta;
        AssertRoundTripWithRegions(size, regions);
    }

    /// <summary>
    /// A fresh receiver reads the first datagram into a span of the destination sized by a hint (256 bytes) plus a
    /// spill buffer: region-table entries that straddle the two must still parse.
    /// </summary>
    [Theory]
    [InlineData(250)]
    [InlineData(252)]
    [InlineData(253)]
    [InlineData(254)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    public void RegionTable_StraddlingReceiveBufferEdge_ParsesLengths(int size)
    {
        AssertRoundTripWithRegions(size, 2);
    }

    private static void AssertRoundTripWithRegions(int size, int regionCount)
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        var regions = new TransportSharedMemory[regionCount];
        for (int i = 0; i < regionCount; i++)
        {
            regions[i] = T.CreateSharedMemory((byte)(i + 1), 1000 + i);
        }

        try
        {
            tx.Send(Payload.Pattern(size), default, regions);
            (byte[] payload, ReceivedHandles? handles) = rx.ReceiveMessage();
            Payload.AssertPattern(payload, size);
            using (handles)
            {
                Assert.Equal(regionCount, handles!.RegionCount);
                for (int i = 0; i < regionCount; i++)
                {
                    using TransportSharedMemory region = handles.TakeRegion(i);
                    Assert.Equal(1000 + i, region.Length);
                    Assert.Equal(-1, region.Span.IndexOfAnyExcept((byte)(i + 1)));
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

    /// <summary>
    /// A socket whose send buffer is smaller than the inline limit refuses a large inline datagram (EMSGSIZE): the
    /// sender must fall back to a memfd body rather than fail.
    /// </summary>
    [Theory]
    [InlineData(20_000, 0)]
    [InlineData(100_000, 0)]
    [InlineData(Frames.MaxInlineBody, 3)]
    [InlineData(100_000, 300)]
    public unsafe void Send_SendBufferSmallerThanInlineLimit_FallsBackToMemfdBody(int size, int handles)
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            int small = 4096;
            Assert.Equal(0, Interop.SetSockOpt(tx.Fd(), Interop.SOL_SOCKET, Interop.SO_SNDBUF, &small, sizeof(int)));
            var ends = new TransportChannelEnd[handles];
            Array.Fill(ends, subTx);
            tx.Send(Payload.Pattern(size, seed: 4), ends, default);
            (byte[] payload, ReceivedHandles? received) = rx.ReceiveMessage();
            Payload.AssertPattern(payload, size, seed: 4);
            Assert.Equal(handles, received?.ChannelCount ?? 0);
            received?.Dispose();
        }
    }

    [Fact]
    public void MaxMessageSize_InlineMessageAboveLimit_RefusedAndNextMessageArrives()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            rx.MaxMessageSize = 1000;
            tx.Send(Payload.Pattern(1001));
            tx.Send(Payload.Pattern(1000));
            var buffer = new ArrayBufferWriter<byte>();
            IpcSerializationException error = Assert.Throws<IpcSerializationException>(() => rx.Receive(ReceiveBound, buffer, out _));
            Assert.Contains("1000", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, buffer.WrittenCount);
            Payload.AssertPattern(rx.ReceiveBytes(), 1000);
        }
    }

    [Fact]
    public void MaxMessageSize_MemfdBodyAboveLimit_RefusedWithoutReadingAndNextMessageArrives()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            rx.MaxMessageSize = MiB;
            tx.Send(Payload.Pattern((4 * MiB) + 1), [subTx], default);
            tx.Send(Payload.Pattern(MiB));
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Throws<IpcSerializationException>(() => rx.TryReceive(buffer, out _));
            Assert.Equal(0, buffer.WrittenCount);
            Payload.AssertPattern(rx.ReceiveBytes(), MiB);

            // The refused message's sender was closed with it: subRx sees only our own sender.
            subTx.Dispose();
            subRx.AssertClosed();
        }
    }
}
