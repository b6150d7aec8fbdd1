using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>A message from one of many sending threads.</summary>
public sealed record ThreadChunk(int Thread, int Seq, byte[] Data)
{
    /// <summary>The size of message <paramref name="seq"/>: small, medium (inline) or large (memfd body).</summary>
    public static int SizeOf(int seq) => (seq % 5) switch
    {
        0 => 150_000,
        1 => 60_000,
        _ => 200 + seq,
    };

    /// <summary>Builds message <paramref name="seq"/> of <paramref name="thread"/>.</summary>
    public static ThreadChunk Create(int thread, int seq) => new(thread, seq, Numbered.Pattern((thread * 1000) + seq, SizeOf(seq)));

    /// <summary>Whether the data is exactly what <see cref="Create"/> made.</summary>
    public bool IsWhole() => Data.AsSpan().SequenceEqual(Numbered.Pattern((Thread * 1000) + Seq, SizeOf(Seq)));
}

/// <summary>Senders shared between threads (Rust: IpcSender is Sync since #415; receiver_set_concurrent).</summary>
public class ThreadingTests
{
    private const int Threads = 8;

    [Fact(Timeout = 60_000)] // Semantics: a sender may be used from many threads at once
    public async Task Send_OneSenderSharedBy8Threads_EveryMessageArrivesWhole_InPerThreadOrder()
    {
        const int PerThread = 60;
        (IpcSender<ThreadChunk> tx, IpcReceiver<ThreadChunk> rx) = Ipc.Channel<ThreadChunk>();
        using (rx)
        {
            Task<List<ThreadChunk>> reading = Task.Factory.StartNew(
                () => Enumerable.Range(0, Threads * PerThread).Select(_ => rx.ReceiveWithin()).ToList(),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);

            using (var start = new Barrier(Threads))
            {
                Task[] senders = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(
                    () =>
                    {
                        start.SignalAndWait(ReceiveExtensions.Patience);
                        for (int seq = 0; seq < PerThread; seq++)
                        {
                            tx.Send(ThreadChunk.Create(t, seq));
                        }
                    },
                    CancellationToken.None,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default)).ToArray();
                await Task.WhenAll(senders).WithTimeout();
            }

            tx.Dispose();
            List<ThreadChunk> all = await reading.WithTimeout();
            AssertWholeAndOrdered(all, PerThread);
            rx.AssertDisconnectedWithin();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task SendAsync_8TasksOnAFullChannel_EveryMessageArrives_InPerTaskOrder()
    {
        const int PerTask = 150;
        (IpcSender<ThreadChunk> tx, IpcReceiver<ThreadChunk> rx) = Ipc.Channel<ThreadChunk>();
        using (rx)
        {
            // Small messages, sent faster than they are read: the channel fills and the sends wait for room.
            Task[] senders = Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
            {
                for (int seq = 0; seq < PerTask; seq++)
                {
                    await tx.SendAsync(new ThreadChunk(t, seq, [(byte)t, (byte)seq]));
                }
            })).ToArray();

            var all = new List<ThreadChunk>();
            for (int i = 0; i < Threads * PerTask; i++)
            {
                all.Add(await rx.ReceiveAsync().WithTimeout());
            }

            await Task.WhenAll(senders).WithTimeout();
            tx.Dispose();
            foreach (IGrouping<int, ThreadChunk> perTask in all.GroupBy(c => c.Thread))
            {
                Assert.Equal(Enumerable.Range(0, PerTask), perTask.Select(c => c.Seq));
                Assert.All(perTask, c => Assert.Equal(new[] { (byte)c.Thread, (byte)c.Seq }, c.Data));
            }

            Assert.Equal(Threads, all.Select(c => c.Thread).Distinct().Count());
            await Assert.ThrowsAsync<IpcDisconnectedException>(() => rx.ReceiveAsync().WithTimeout());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Send_8ClonesOn8Threads_ChannelClosesOnlyAfterTheLastClone()
    {
        const int PerThread = 40;
        (IpcSender<ThreadChunk> tx, IpcReceiver<ThreadChunk> rx) = Ipc.Channel<ThreadChunk>();
        IpcSender<ThreadChunk>[] clones = Enumerable.Range(0, Threads).Select(_ => tx.Clone()).ToArray();
        tx.Dispose();
        using (rx)
        {
            Task<List<ThreadChunk>> reading = Task.Factory.StartNew(
                () => Enumerable.Range(0, Threads * PerThread).Select(_ => rx.ReceiveWithin()).ToList(),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            Task[] senders = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(
                () =>
                {
                    using IpcSender<ThreadChunk> clone = clones[t];
                    for (int seq = 0; seq < PerThread; seq++)
                    {
                        clone.Send(ThreadChunk.Create(t, seq));
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default)).ToArray();
            await Task.WhenAll(senders).WithTimeout();
            AssertWholeAndOrdered(await reading.WithTimeout(), PerThread);
            rx.AssertDisconnectedWithin();
        }
    }

    [Fact(Timeout = 60_000)] // Rust: receiver_set_concurrent
    public async Task Select_5ChannelsWith100MessagesEachFrom5Threads_OrderAndContentKept_ThenEachCloses()
    {
        const int Channels = 5;
        const int PerChannel = 100;
        using var set = new IpcReceiverSet();
        var ids = new Dictionary<ulong, int>();
        var senders = new IpcBytesSender[Channels];
        for (int c = 0; c < Channels; c++)
        {
            (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
            senders[c] = tx;
            ids[set.Add(rx)] = c;
        }

        Task[] sending = Enumerable.Range(0, Channels).Select(c => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(c);
                using IpcBytesSender tx = senders[c];
                for (int i = 0; i < PerChannel; i++)
                {
                    int size = random.Next(0, 16381 / 4) * 4;
                    byte[] data = Numbered.Pattern((c * 1000) + i, size + 4);
                    BitConverter.TryWriteBytes(data, i);
                    tx.Send(data);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();

        int[] received = new int[Channels];
        int closed = 0;
        while (closed < Channels)
        {
            foreach (IpcSelectionResult result in set.SelectAtLeast(1))
            {
                int c = ids[result.Id];
                switch (result)
                {
                    case IpcMessageReceived message:
                        byte[] data = message.Message.Data.ToArray();
                        int index = BitConverter.ToInt32(data);
                        Assert.Equal(received[c], index);
                        Assert.Equal(Numbered.Pattern((c * 1000) + index, data.Length).AsSpan(4).ToArray(), data.AsSpan(4).ToArray());
                        received[c]++;
                        break;
                    case IpcChannelClosed:
                        Assert.Equal(PerChannel, received[c]);
                        closed++;
                        break;
                }
            }
        }

        await Task.WhenAll(sending).WithTimeout();
        Assert.All(received, count => Assert.Equal(PerChannel, count));
        Assert.Equal(0, set.Count);
    }

    private static void AssertWholeAndOrdered(List<ThreadChunk> all, int perThread)
    {
        Assert.Equal(Threads * perThread, all.Count);
        Assert.All(all, chunk => Assert.True(chunk.IsWhole(), $"message {chunk.Seq} of thread {chunk.Thread} is corrupt"));
        foreach (IGrouping<int, ThreadChunk> perSender in all.GroupBy(c => c.Thread))
        {
            Assert.Equal(Enumerable.Range(0, perThread), perSender.Select(c => c.Seq));
        }

        Assert.Equal(Threads, all.Select(c => c.Thread).Distinct().Count());
    }
}
