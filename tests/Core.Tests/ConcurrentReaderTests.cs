using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>A message with a body of any size and, optionally, a handle: every path a message can take.</summary>
public sealed record Parcel(int Seq, byte[] Body, IpcSender<int>? Reply);

/// <summary>
/// A receiver serves one reader at a time, enforced: a second reader gets <see cref="InvalidOperationException"/> at
/// once and consumes nothing, so under any contention each message reaches exactly one reader, whole.
/// </summary>
public class ConcurrentReaderTests
{
    [Fact(Timeout = 60_000)]
    public async Task SecondReader_WhileAThreadIsBlockedInReceive_ThrowsInvalidOperationAtOnce_AndTheFirstGetsTheMessage()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        using (rx)
        {
            Task<int> first = await BlockedCall.StartAsync(rx.Receive);

            Assert.Throws<InvalidOperationException>(() => rx.TryReceive(out _));
            Assert.Throws<InvalidOperationException>(() => rx.TryReceive(TimeSpan.FromHours(1), out _));
            ValueTask<int> second = rx.ReceiveAsync();
            Assert.True(second.IsCompleted, "a second ReceiveAsync must fail at once, not wait");
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await second);

            tx.Send(1);
            Assert.Equal(1, await first.WithTimeout());
            tx.Send(2);
            Assert.Equal(2, rx.ReceiveWithin());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task SecondReader_WhileReceiveAsyncIsPending_ThrowsInvalidOperationAtOnce_OnEveryReceiverKind()
    {
        (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
        using (tx)
        using (rx)
        {
            ValueTask<byte[]> pending = rx.ReceiveAsync();
            Assert.False(pending.IsCompleted);

            Assert.Throws<InvalidOperationException>(() => rx.TryReceive(out _));
            Assert.Throws<InvalidOperationException>(() => rx.TryReceive(TimeSpan.Zero, out _));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await rx.ReceiveAsync());

            tx.Send([9]);
            Assert.Equal([9], await pending.WithTimeout());
            Assert.False(rx.TryReceive(out _)); // the reader slot is free again once the async receive completed
        }
    }

    /// <summary>
    /// Two threads race to read one receiver while a third sends messages on every size path (inline, body on a side
    /// channel, body in a memfd) with and without a handle: each message arrives exactly once, whole, with its handle.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task TwoThreadsReadingOneReceiver_UnderLoad_EveryMessageArrivesOnceAndWhole()
    {
        int[] sizes = [8, 64 * 1024, 200 * 1024, 1024 * 1024, 8 * 1024 * 1024];
        const int Messages = 120;
        (IpcSender<Parcel> tx, IpcReceiver<Parcel> rx) = Ipc.Channel<Parcel>();
        (IpcSender<int> replyTx, IpcReceiver<int> replies) = Ipc.Channel<int>();
        var received = new ConcurrentBag<(int Reader, Parcel Parcel)>();
        int refused = 0;
        using IpcReceiver<int> replyQueue = replies;
        using (rx)
        {
            Task[] readers = Enumerable.Range(0, 2).Select(reader => Task.Factory.StartNew(
                () =>
                {
                    while (true)
                    {
                        try
                        {
                            if (rx.TryReceive(ReceiveExtensions.Patience, out Parcel? parcel))
                            {
                                received.Add((reader, parcel));
                            }
                            else
                            {
                                throw new TimeoutException("no message nor disconnect in time");
                            }
                        }
                        catch (InvalidOperationException)
                        {
                            Interlocked.Increment(ref refused);
                            Thread.Yield();
                        }
                        catch (IpcDisconnectedException)
                        {
                            return;
                        }
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default)).ToArray();

            using (replyTx)
            using (tx)
            {
                for (int seq = 0; seq < Messages && !readers.Any(r => r.IsFaulted); seq++)
                {
                    byte[] body = Body(seq, sizes[seq % sizes.Length]);
                    tx.Send(new Parcel(seq, body, seq % 3 == 0 ? replyTx.Clone() : null));
                }
            }

            await Task.WhenAll(readers).WithTimeout(TimeSpan.FromMinutes(4));
        }

        Assert.Equal(Enumerable.Range(0, Messages), received.Select(r => r.Parcel.Seq).Order());
        foreach ((_, Parcel parcel) in received)
        {
            Assert.True(Body(parcel.Seq, sizes[parcel.Seq % sizes.Length]).AsSpan().SequenceEqual(parcel.Body), $"message {parcel.Seq} arrived torn");
            if (parcel.Seq % 3 == 0)
            {
                using IpcSender<int> reply = Assert.IsType<IpcSender<int>>(parcel.Reply);
                reply.Send(parcel.Seq);
            }
            else
            {
                Assert.Null(parcel.Reply);
            }
        }

        var replied = new List<int>();
        for (int i = 0; i < Messages; i += 3)
        {
            replied.Add(replies.ReceiveWithin());
        }

        Assert.Equal(Enumerable.Range(0, Messages).Where(seq => seq % 3 == 0), replied.Order());
    }

    private static byte[] Body(int seq, int size)
    {
        byte[] body = new byte[size];
        for (int i = 0; i < body.Length; i++)
        {
            body[i] = (byte)((i * 31) + seq);
        }

        return body;
    }
}
