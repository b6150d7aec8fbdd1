using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>Many threads on one channel: messages stay whole and per-thread order is kept (Rust: concurrent_senders, try_recv_large*).</summary>
public class ConcurrencyTests
{
    private const int MiB = 1024 * 1024;

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "concurrent_senders")]
    public async Task ConcurrentSenders_ThreeClonesOneMiBEach_ArriveWholeAndDistinct()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            TransportSender[] clones = [tx, tx.Clone(), tx.Clone()];
            Task[] sending = clones.Select((clone, i) => Task.Factory.StartNew(
                () =>
                {
                    using (clone)
                    {
                        clone.Send(Payload.Pattern(MiB, seed: i));
                    }
                },
                TaskCreationOptions.LongRunning)).ToArray();

            var seeds = new HashSet<int>();
            for (int i = 0; i < 3; i++)
            {
                byte[] payload = rx.ReceiveBytes();
                int seed = payload[0];
                Assert.True(seeds.Add(seed));
                Payload.AssertPattern(payload, MiB, seed);
            }

            await Task.WhenAll(sending).WithTimeout();
            rx.AssertClosed();
            Assert.Equal(new[] { 0, 1, 2 }, seeds.Order());
        }
    }

    /// <summary>Message (thread, seq): size and handle count vary so every path (inline, limit, memfd, side channel) is raced.</summary>
    private static (int Size, int Handles) Shape(int thread, int seq) => ((thread + seq) % 5) switch
    {
        0 => (8 + seq, 0),
        1 => (Frames.MaxInlineBody, 0),
        2 => (150_000 + (thread * 1000) + seq, 0),
        3 => (8 + thread, 300),
        _ => (Frames.MaxInlineBody + 1, 2),
    };

    [Fact(Timeout = 60_000)]
    public async Task EightThreadsOnOneSender_MessagesNeverInterleave()
    {
        const int Threads = 8;
        const int PerThread = 40;
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        using (subRx)
        {
            var many = new TransportChannelEnd[300];
            Array.Fill(many, subTx);
            using var start = new Barrier(Threads);
            Task[] senders = Enumerable.Range(0, Threads).Select(thread => Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait(TimeSpan.FromSeconds(20));
                    for (int seq = 0; seq < PerThread; seq++)
                    {
                        (int size, int handles) = Shape(thread, seq);
                        byte[] payload = Payload.Pattern(size, seed: (thread * 1000) + seq);
                        BinaryPrimitives.WriteInt32LittleEndian(payload, (thread << 16) | seq);
                        tx.Send(payload, many.AsSpan(0, handles), default);
                    }
                },
                TaskCreationOptions.LongRunning)).ToArray();

            int[] next = new int[Threads];
            var buffer = new ArrayBufferWriter<byte>();
            for (int i = 0; i < Threads * PerThread; i++)
            {
                buffer.ResetWrittenCount();
                Assert.Equal(ReceiveStatus.Message, rx.Receive(ReceiveBound, buffer, out ReceivedHandles? handles));
                ReadOnlySpan<byte> payload = buffer.WrittenSpan;
                int tag = BinaryPrimitives.ReadInt32LittleEndian(payload);
                int thread = tag >> 16;
                int seq = tag & 0xFFFF;
                Assert.InRange(thread, 0, Threads - 1);
                Assert.Equal(next[thread], seq);
                next[thread]++;
                (int size, int handleCount) = Shape(thread, seq);
                Assert.Equal(size, payload.Length);
                Payload.AssertPattern(payload[4..], size - 4, seed: (thread * 1000) + seq + 4);
                Assert.Equal(handleCount, handles?.ChannelCount ?? 0);
                handles?.Dispose();
            }

            await Task.WhenAll(senders).WithTimeout();
            rx.AssertEmpty();
            Assert.All(next, n => Assert.Equal(PerThread, n));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task SendAsync_ManyTasksOnOneSenderThroughFullChannel_AllDeliveredInPerTaskOrder()
    {
        const int Tasks = 8;
        const int PerTask = 200;
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            Task[] producers = Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
            {
                for (int seq = 0; seq < PerTask; seq++)
                {
                    byte[] payload = new byte[8 + (seq % 64)];
                    BinaryPrimitives.WriteInt32LittleEndian(payload, t);
                    BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), seq);
                    await tx.SendAsync(payload, default, default, CancellationToken.None).ConfigureAwait(false);
                }
            })).ToArray();

            int[] next = new int[Tasks];
            var buffer = new ArrayBufferWriter<byte>();
            for (int i = 0; i < Tasks * PerTask; i++)
            {
                buffer.ResetWrittenCount();
                (ReceiveStatus status, _) = await rx.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
                Assert.Equal(ReceiveStatus.Message, status);
                int t = BinaryPrimitives.ReadInt32LittleEndian(buffer.WrittenSpan);
                int seq = BinaryPrimitives.ReadInt32LittleEndian(buffer.WrittenSpan[4..]);
                Assert.Equal(next[t]++, seq);
                Assert.Equal(8 + (seq % 64), buffer.WrittenCount);
            }

            await Task.WhenAll(producers).WithTimeout();
        }
    }

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "try_recv_large")]
    public async Task TryReceive_BusyPollWhileAnotherThreadSendsOneMiB_ArrivesIntact()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            Task sending = Task.Run(() => tx.Send(Payload.Pattern(MiB)));
            var buffer = new ArrayBufferWriter<byte>();
            Poll.Until(() => rx.TryReceive(buffer, out _) == ReceiveStatus.Message, "the 1 MiB message");
            Payload.AssertPattern(buffer.WrittenSpan, MiB);
            await sending.WithTimeout();
            rx.AssertEmpty();
        }
    }

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "try_recv_large_delayed")]
    public async Task TryReceive_BusyPollWhileTenThreadsSendHalfMiB_AllArriveIntact()
    {
        const int Senders = 10;
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            using var start = new Barrier(Senders + 1);
            Task[] sending = Enumerable.Range(0, Senders).Select(i => Task.Factory.StartNew(
                () =>
                {
                    using TransportSender clone = tx.Clone();
                    start.SignalAndWait(TimeSpan.FromSeconds(20));
                    clone.Send(Payload.Pattern(512 * 1024, seed: i));
                },
                TaskCreationOptions.LongRunning)).ToArray();
            start.SignalAndWait(TimeSpan.FromSeconds(20));

            var seeds = new HashSet<int>();
            var buffer = new ArrayBufferWriter<byte>();
            Poll.Until(
                () =>
                {
                    buffer.ResetWrittenCount();
                    if (rx.TryReceive(buffer, out _) == ReceiveStatus.Message)
                    {
                        int seed = buffer.WrittenSpan[0];
                        Payload.AssertPattern(buffer.WrittenSpan, 512 * 1024, seed);
                        Assert.True(seeds.Add(seed));
                    }

                    return seeds.Count == Senders;
                },
                "ten 512 KiB messages");
            await Task.WhenAll(sending).WithTimeout();
            rx.AssertEmpty();
        }
    }
}
