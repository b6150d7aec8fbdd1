using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>Receiver sets (Rust: platform/test.rs "receiver sets" and test.rs select/try_select).</summary>
public class ReceiverSetTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Selects until <paramref name="count"/> events arrived (bounded).</summary>
    private static List<TransportSelection> SelectAtLeast(TransportReceiverSet set, int count)
    {
        var results = new List<TransportSelection>();
        var clock = Stopwatch.StartNew();
        while (results.Count < count)
        {
            TimeSpan left = Bound - clock.Elapsed;
            Assert.True(left > TimeSpan.Zero, $"only {results.Count} of {count} events within {Bound}");
            set.Select(left, results);
        }

        return results;
    }

    [Fact]
    [Trait("Rust", "receiver_set")]
    public void ReceiverSet_TwoReceivers_ReportMessagesWithTheirIds()
    {
        (TransportSender tx0, TransportReceiver rx0) = T.CreateChannel();
        (TransportSender tx1, TransportReceiver rx1) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx0)
        using (tx1)
        {
            ulong id0 = set.Add(rx0);
            ulong id1 = set.Add(rx1);
            Assert.Equal(0ul, id0);
            Assert.Equal(1ul, id1);
            Assert.Equal(2, set.Count);

            tx0.Send("0"u8);
            TransportSelection only = Assert.Single(SelectAtLeast(set, 1));
            Assert.Equal((id0, false, "0"), (only.Id, only.Closed, Encoding.ASCII.GetString(only.Payload)));

            tx1.Send("1"u8);
            only = Assert.Single(SelectAtLeast(set, 1));
            Assert.Equal((id1, false, "1"), (only.Id, only.Closed, Encoding.ASCII.GetString(only.Payload)));

            tx0.Send("a"u8);
            tx1.Send("b"u8);
            List<TransportSelection> both = SelectAtLeast(set, 2);
            Assert.Equal(2, both.Count);
            Assert.Contains(both, s => s.Id == id0 && s.Payload.SequenceEqual("a"u8.ToArray()));
            Assert.Contains(both, s => s.Id == id1 && s.Payload.SequenceEqual("b"u8.ToArray()));
        }
    }

    [Fact]
    [Trait("Rust", "receiver_set_empty")]
    public void ReceiverSet_ZeroByteMessage_ReportedAsDataNotClose()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx)
        {
            ulong id = set.Add(rx);
            tx.Send(ReadOnlySpan<byte>.Empty);
            TransportSelection only = Assert.Single(SelectAtLeast(set, 1));
            Assert.Equal(id, only.Id);
            Assert.False(only.Closed);
            Assert.Empty(only.Payload);
            Assert.Equal(1, set.Count);
        }
    }

    [Fact]
    [Trait("Rust", "receiver_set_close_before_adding")]
    public void ReceiverSet_SenderDroppedBeforeAdding_ReportsClosedOnFirstSelect()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        tx.Dispose();
        using TransportReceiverSet set = T.CreateReceiverSet();
        ulong id = set.Add(rx);
        TransportSelection only = Assert.Single(SelectAtLeast(set, 1));
        Assert.Equal(id, only.Id);
        Assert.True(only.Closed);
        Assert.Empty(only.Payload);
        Assert.Null(only.Handles);
        Assert.Equal(0, set.Count);
        Assert.True(rx.IsDisposed); // the set closed it
    }

    [Fact]
    [Trait("Rust", "receiver_set_close_after_adding")]
    public void ReceiverSet_SenderDroppedAfterAdding_ReportsClosedOnce()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        ulong id = set.Add(rx);
        var results = new List<TransportSelection>();
        Assert.False(set.Select(TimeSpan.Zero, results));
        tx.Dispose();
        TransportSelection only = Assert.Single(SelectAtLeast(set, 1));
        Assert.True(only.Closed);
        Assert.Equal(id, only.Id);
        results.Clear();
        Assert.False(set.Select(TimeSpan.FromMilliseconds(20), results));
        Assert.Empty(results);
    }

    [Fact]
    public void ReceiverSet_QueuedMessagesThenClose_AllMessagesBeforeClosed()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        ulong id = set.Add(rx);
        for (int i = 0; i < 40; i++)
        {
            tx.Send(Payload.Pattern(i == 20 ? 300_000 : i, seed: i));
        }

        tx.Dispose();
        List<TransportSelection> results = SelectAtLeast(set, 41);
        Assert.Equal(41, results.Count);
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(id, results[i].Id);
            Assert.False(results[i].Closed);
            Payload.AssertPattern(results[i].Payload, i == 20 ? 300_000 : i, seed: i);
        }

        Assert.True(results[40].Closed);
    }

    [Fact]
    [Trait("Rust", "receiver_set_medium_data")]
    public void ReceiverSet_InlineLimitMessagesOnTwoReceivers_BothReportedIntact()
    {
        (TransportSender tx0, TransportReceiver rx0) = T.CreateChannel();
        (TransportSender tx1, TransportReceiver rx1) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx0)
        using (tx1)
        {
            ulong id0 = set.Add(rx0);
            ulong id1 = set.Add(rx1);
            tx0.Send(Payload.Pattern(Frames.MaxInlineBody, seed: 0));
            tx1.Send(Payload.Pattern(Frames.MaxInlineBody, seed: 1));
            List<TransportSelection> results = SelectAtLeast(set, 2);
            Payload.AssertPattern(results.Single(r => r.Id == id0).Payload, Frames.MaxInlineBody, seed: 0);
            Payload.AssertPattern(results.Single(r => r.Id == id1).Payload, Frames.MaxInlineBody, seed: 1);
        }
    }

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "receiver_set_big_data")]
    public async Task ReceiverSet_OneMiBOnTwoReceiversFromTwoThreads_BothReportedIntact()
    {
        (TransportSender tx0, TransportReceiver rx0) = T.CreateChannel();
        (TransportSender tx1, TransportReceiver rx1) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx0)
        using (tx1)
        {
            ulong id0 = set.Add(rx0);
            ulong id1 = set.Add(rx1);
            Task s0 = Task.Run(() => tx0.Send(Payload.Pattern(1 << 20, seed: 0)));
            Task s1 = Task.Run(() => tx1.Send(Payload.Pattern(1 << 20, seed: 1)));
            List<TransportSelection> results = SelectAtLeast(set, 2);
            Payload.AssertPattern(results.Single(r => r.Id == id0).Payload, 1 << 20, seed: 0);
            Payload.AssertPattern(results.Single(r => r.Id == id1).Payload, 1 << 20, seed: 1);
            await Task.WhenAll(s0, s1).WithTimeout();
        }
    }

    /// <summary>Rust: 5 channels × 100 messages of pseudo-random sizes below 16381 (multiples of 4) from 5 threads.</summary>
    [Fact(Timeout = 60_000)]
    [Trait("Rust", "receiver_set_concurrent")]
    public async Task ReceiverSet_FiveThreadsHundredMessagesEach_OrderKeptThenClosed()
    {
        const int Channels = 5;
        const int Messages = 100;
        static int SizeOf(int channel, int message) => (int)((((uint)channel * 2654435761u) ^ ((uint)message * 40503u)) % 16381) & ~3;

        using TransportReceiverSet set = T.CreateReceiverSet();
        var senders = new TransportSender[Channels];
        var ids = new Dictionary<ulong, int>();
        for (int c = 0; c < Channels; c++)
        {
            (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
            senders[c] = tx;
            ids[set.Add(rx)] = c;
        }

        Task[] producers = Enumerable.Range(0, Channels).Select(c => Task.Factory.StartNew(
            () =>
            {
                using TransportSender tx = senders[c];
                for (int m = 0; m < Messages; m++)
                {
                    tx.Send(Payload.Pattern(SizeOf(c, m), seed: (c * 1000) + m));
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        int[] next = new int[Channels];
        bool[] closed = new bool[Channels];
        var clock = Stopwatch.StartNew();
        var results = new List<TransportSelection>();
        while (closed.Contains(false))
        {
            Assert.True(clock.Elapsed < Bound, "receiver_set_concurrent did not finish in time");
            results.Clear();
            set.Select(Bound, results);
            foreach (TransportSelection selection in results)
            {
                int c = ids[selection.Id];
                Assert.False(closed[c], $"event for channel {c} after it closed");
                if (selection.Closed)
                {
                    Assert.Equal(Messages, next[c]);
                    closed[c] = true;
                    continue;
                }

                Payload.AssertPattern(selection.Payload, SizeOf(c, next[c]), seed: (c * 1000) + next[c]);
                next[c]++;
            }
        }

        Assert.Equal(0, set.Count);
        await Task.WhenAll(producers).WithTimeout();
    }

    [Fact]
    [Trait("Rust", "try_select")]
    public void TrySelect_EmptyMessageEmptyClosedEmpty()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        ulong id = set.Add(rx);
        var results = new List<TransportSelection>();
        Assert.False(set.Select(TimeSpan.Zero, results));
        tx.Send("x"u8);
        Assert.True(set.Select(TimeSpan.Zero, results));
        Assert.Equal(id, Assert.Single(results).Id);
        results.Clear();
        Assert.False(set.Select(TimeSpan.Zero, results));
        tx.Dispose();
        Assert.True(set.Select(TimeSpan.Zero, results));
        Assert.True(Assert.Single(results).Closed);
        results.Clear();
        Assert.False(set.Select(TimeSpan.Zero, results));
        Assert.Empty(results);
    }

    [Fact]
    [Trait("Rust", "try_select_timeout")]
    public void TrySelectTimeout_Message_ThenEmptyWaitsTheTimeout_ZeroDoesNotWait_ThenClosed_ThenEmptyAgain()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        TimeSpan timeout = TimeSpan.FromMilliseconds(50);
        ulong id = set.Add(rx);
        var results = new List<TransportSelection>();
        var clock = Stopwatch.StartNew();
        Assert.False(set.Select(timeout, results));
        Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(1), $"returned after {clock.Elapsed}");

        tx.Send("ready"u8);
        clock.Restart();
        Assert.True(set.Select(TimeSpan.FromSeconds(30), results));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"a ready message took {clock.Elapsed}");
        TransportSelection message = Assert.Single(results);
        Assert.Equal((id, false), (message.Id, message.Closed));
        Assert.Equal("ready"u8.ToArray(), message.Payload);
        results.Clear();

        // Taken: a timed select finds nothing and waits its whole timeout.
        clock.Restart();
        Assert.False(set.Select(timeout, results));
        Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(1), $"the empty select after the message returned after {clock.Elapsed}");

        // A zero timeout does not wait at all.
        clock.Restart();
        Assert.False(set.Select(TimeSpan.Zero, results));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Select(Zero) took {clock.Elapsed}");

        tx.Dispose();
        clock.Restart();
        Assert.True(set.Select(TimeSpan.FromSeconds(30), results));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the close took {clock.Elapsed}");
        TransportSelection closed = Assert.Single(results);
        Assert.Equal((id, true), (closed.Id, closed.Closed));
        Assert.Equal(0, set.Count);
        results.Clear();

        clock.Restart();
        Assert.False(set.Select(timeout, results));
        Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(1), $"the empty select after the close returned after {clock.Elapsed}");
        Assert.Empty(results);
    }

    [Fact]
    public void Select_BusyChannel_DoesNotStarveQuietOne()
    {
        (TransportSender busyTx, TransportReceiver busyRx) = T.CreateChannel();
        (TransportSender quietTx, TransportReceiver quietRx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (busyTx)
        using (quietTx)
        {
            ulong busy = set.Add(busyRx);
            ulong quiet = set.Add(quietRx);
            for (int i = 0; i < 200; i++)
            {
                busyTx.Send([(byte)i]);
            }

            quietTx.Send("me too"u8);
            var results = new List<TransportSelection>();
            Assert.True(set.Select(Bound, results));
            Assert.Contains(results, r => r.Id == quiet);
            Assert.True(results.Count(r => r.Id == busy) <= LinuxReceiverSet.MaxMessagesPerReceiverPerSelect);

            // The busy channel's messages still come in order.
            List<byte> busyOrder = results.Where(r => r.Id == busy).Select(r => r.Payload[0]).ToList();
            while (busyOrder.Count < 200)
            {
                results.Clear();
                Assert.True(set.Select(Bound, results));
                busyOrder.AddRange(results.Where(r => r.Id == busy).Select(r => r.Payload[0]));
            }

            Assert.Equal(Enumerable.Range(0, 200).Select(i => (byte)i), busyOrder);
        }
    }

    [Fact]
    public void Select_MoreReadyReceiversThanOneWaitReturns_QuietOneReportedWithinFewSelects()
    {
        const int Busy = 100;
        using TransportReceiverSet set = T.CreateReceiverSet();
        var senders = new List<TransportSender>();
        try
        {
            for (int i = 0; i < Busy; i++)
            {
                (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
                senders.Add(tx);
                set.Add(rx);
                for (int m = 0; m < 40; m++)
                {
                    tx.Send([(byte)m]);
                }
            }

            (TransportSender quietTx, TransportReceiver quietRx) = T.CreateChannel();
            senders.Add(quietTx);
            ulong quiet = set.Add(quietRx);
            quietTx.Send("quiet"u8);

            var results = new List<TransportSelection>();
            int selects = 0;
            while (!results.Exists(r => r.Id == quiet))
            {
                Assert.True(++selects <= 3, "the quiet receiver was starved by 100 busy ones");
                Assert.True(set.Select(Bound, results));
            }
        }
        finally
        {
            senders.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public void Remove_ReturnsWorkingReceiver_AndIdsAreNeverReused()
    {
        (TransportSender tx0, TransportReceiver rx0) = T.CreateChannel();
        (TransportSender tx1, TransportReceiver rx1) = T.CreateChannel();
        (TransportSender tx2, TransportReceiver rx2) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx0)
        using (tx1)
        using (tx2)
        {
            ulong id0 = set.Add(rx0);
            ulong id1 = set.Add(rx1);
            using TransportReceiver? removed = set.Remove(id0);
            Assert.Same(rx0, removed);
            Assert.Null(set.Remove(id0));
            Assert.Null(set.Remove(99));
            Assert.Equal(1, set.Count);
            ulong id2 = set.Add(rx2);
            Assert.Equal(2ul, id2);

            tx0.Send("not via the set"u8);
            tx1.Send("via the set"u8);
            TransportSelection only = Assert.Single(SelectAtLeast(set, 1));
            Assert.Equal(id1, only.Id);
            Assert.Equal("not via the set"u8.ToArray(), removed!.ReceiveBytes());
        }
    }

    [Fact]
    public void Select_MessageWithHandles_HandlesDelivered()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx)
        using (subTx)
        using (subRx)
        {
            set.Add(rx);
            using TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(10_000));
            tx.Send("handles"u8, [subTx], [region]);
            TransportSelection only = Assert.Single(SelectAtLeast(set, 1));
            using (only.Handles)
            {
                Assert.Equal(1, only.Handles!.ChannelCount);
                using TransportSharedMemory received = only.Handles.TakeRegion(0);
                Payload.AssertPattern(received.Span, 10_000);
                using TransportSender sender = only.Handles.TakeChannel(0).ToSender();
                sender.Send("back"u8);
            }

            Assert.Equal("back"u8.ToArray(), subRx.ReceiveBytes());
        }
    }

    [Fact]
    public void Dispose_ClosesMembers_SendersSeeDisconnected()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        TransportReceiverSet set = T.CreateReceiverSet();
        using (tx)
        {
            set.Add(rx);
            set.Dispose();
            set.Dispose();
            Assert.True(rx.IsDisposed);
            Assert.Throws<IpcDisconnectedException>(() => tx.Send("x"u8));
            Assert.Throws<ObjectDisposedException>(() => set.Select(TimeSpan.Zero, []));
        }
    }

    [Fact]
    public void Add_DisposedReceiver_Throws()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        rx.Dispose();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx)
        {
            Assert.Throws<ObjectDisposedException>(() => set.Add(rx));
            Assert.Equal(0, set.Count);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SelectAsync_MessageSentLater_Completes()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx)
        {
            ulong id = set.Add(rx);
            var results = new List<TransportSelection>();
            ValueTask pending = set.SelectAsync(results, CancellationToken.None);
            Assert.False(pending.IsCompleted);
            tx.Send("later"u8);
            await pending.WithTimeout();
            TransportSelection only = Assert.Single(results);
            Assert.Equal(id, only.Id);
            Assert.Equal("later"u8.ToArray(), only.Payload);

            results.Clear();
            tx.Dispose();
            await set.SelectAsync(results, CancellationToken.None).WithTimeout();
            Assert.True(Assert.Single(results).Closed);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SelectAsync_RepeatedWaits_EachDeliversItsMessage()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx)
        {
            set.Add(rx);
            var results = new List<TransportSelection>();
            for (int i = 0; i < 50; i++)
            {
                ValueTask pending = set.SelectAsync(results, CancellationToken.None);
                tx.Send([(byte)i]);
                await pending.WithTimeout();
            }

            Assert.Equal(Enumerable.Range(0, 50).Select(i => (byte)i), results.Select(r => r.Payload.Single()));
        }
    }
}
