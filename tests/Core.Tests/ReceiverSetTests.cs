using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>Waiting on many receivers at once (Rust test.rs: select, try_select, try_select_timeout).</summary>
public class ReceiverSetTests
{
    private static readonly Named s_person = new("Patrick Walton", 29);

    [Fact] // Rust: select
    public void Select_MessagesOnTwoReceivers_AreReportedWithTheirIds()
    {
        (IpcSender<Named> tx0, IpcReceiver<Named> rx0) = Ipc.Channel<Named>();
        (IpcSender<Named> tx1, IpcReceiver<Named> rx1) = Ipc.Channel<Named>();
        using var set = new IpcReceiverSet();
        using (tx0)
        using (tx1)
        {
            ulong id0 = set.Add(rx0);
            ulong id1 = set.Add(rx1);
            Assert.Equal(0ul, id0);
            Assert.Equal(1ul, id1);
            Assert.Equal(2, set.Count);

            tx0.Send(s_person);
            IpcMessageReceived first = Assert.IsType<IpcMessageReceived>(Assert.Single(ReceiveExtensions.Bounded(set.Select)));
            Assert.Equal(id0, first.Id);
            Assert.Equal(s_person, first.Message.Deserialize<Named>());

            tx1.Send(s_person with { Age = 1 });
            IpcMessageReceived second = Assert.IsType<IpcMessageReceived>(Assert.Single(ReceiveExtensions.Bounded(set.Select)));
            Assert.Equal(id1, second.Id);
            Assert.Equal(s_person with { Age = 1 }, second.Message.Deserialize<Named>());

            // Both at once: each reported exactly once, over one or more selects.
            tx0.Send(s_person with { Age = 10 });
            tx1.Send(s_person with { Age = 11 });
            List<IpcSelectionResult> both = set.SelectAtLeast(2);
            Assert.Equal(2, both.Count);
            Dictionary<ulong, Named> byId = both.Cast<IpcMessageReceived>().ToDictionary(r => r.Id, r => r.Message.Deserialize<Named>());
            Assert.Equal(s_person with { Age = 10 }, byId[id0]);
            Assert.Equal(s_person with { Age = 11 }, byId[id1]);
        }
    }

    [Fact] // Rust: try_select
    public void TrySelect_EmptyThenMessageThenEmpty_ThenClosed_ThenEmptyAgain()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using var set = new IpcReceiverSet();
        ulong id = set.Add(rx);
        Assert.Empty(set.TrySelect());

        tx.Send(42);
        IpcMessageReceived message = Assert.IsType<IpcMessageReceived>(Assert.Single(set.TrySelect()));
        Assert.Equal(id, message.Id);
        Assert.Equal(42, message.Message.Deserialize<int>());
        Assert.Empty(set.TrySelect());

        tx.Dispose();
        IpcChannelClosed closed = Assert.IsType<IpcChannelClosed>(Assert.Single(set.TrySelect()));
        Assert.Equal(id, closed.Id);
        Assert.Equal(0, set.Count);
        Assert.Empty(set.TrySelect());
    }

    [Fact] // Rust: try_select_timeout
    public void TrySelectTimeout_Message_ThenEmptyWaitsTheTimeout_TrySelectDoesNotWait_ThenClosed_ThenEmptyAgain()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using var set = new IpcReceiverSet();
        ulong id = set.Add(rx);
        TimeSpan timeout = TimeSpan.FromMilliseconds(100);
        TimeSpan patience = TimeSpan.FromSeconds(20);

        var clock = Stopwatch.StartNew();
        Assert.Empty(set.TrySelect(timeout));
        Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(1), $"returned after {clock.Elapsed}");

        tx.Send(42);
        clock.Restart();
        IpcMessageReceived message = Assert.IsType<IpcMessageReceived>(Assert.Single(set.TrySelect(patience)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"a ready message took {clock.Elapsed}");
        Assert.Equal(42, message.Message.Deserialize<int>());

        // Taken: a timed select finds nothing and waits its whole timeout.
        clock.Restart();
        Assert.Empty(set.TrySelect(timeout));
        Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(1), $"the empty select after the message returned after {clock.Elapsed}");

        // The non-blocking form does not wait at all.
        clock.Restart();
        Assert.Empty(set.TrySelect());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"TrySelect() took {clock.Elapsed}");

        tx.Dispose();
        clock.Restart();
        Assert.Equal(new IpcChannelClosed(id), Assert.Single(set.TrySelect(patience)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the close took {clock.Elapsed}");
        Assert.Equal(0, set.Count);

        clock.Restart();
        Assert.Empty(set.TrySelect(timeout));
        Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(1), $"the empty select after the close returned after {clock.Elapsed}");
    }

    [Fact] // Rust: receiver_set_close_before_adding
    public void Select_ReceiverWhoseSendersWereGoneBeforeAdding_ReportsClosedFirst()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        tx.Dispose();
        using var set = new IpcReceiverSet();
        ulong id = set.Add(rx);
        Assert.Equal(new IpcChannelClosed(id), Assert.Single(set.SelectAtLeast(1)));
    }

    [Fact] // Rust: receiver_set_empty
    public void Select_ZeroByteMessage_IsAMessageNotAClose()
    {
        (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
        using var set = new IpcReceiverSet();
        using (tx)
        {
            ulong id = set.Add(rx);
            tx.Send([]);
            IpcMessageReceived message = Assert.IsType<IpcMessageReceived>(Assert.Single(set.SelectAtLeast(1)));
            Assert.Equal(id, message.Id);
            Assert.Equal(0, message.Message.Data.Length);
        }
    }

    [Fact]
    public void Select_SeveralQueuedMessagesThenClose_AreAllReportedInOrder_ThenClosed()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using var set = new IpcReceiverSet();
        ulong id = set.Add(rx);
        for (int i = 0; i < 40; i++)
        {
            tx.Send(i);
        }

        tx.Dispose();
        List<IpcSelectionResult> events = set.SelectAtLeast(41);
        Assert.Equal(41, events.Count);
        for (int i = 0; i < 40; i++)
        {
            IpcMessageReceived message = Assert.IsType<IpcMessageReceived>(events[i]);
            Assert.Equal(id, message.Id);
            Assert.Equal(i, message.Message.Deserialize<int>());
        }

        Assert.Equal(new IpcChannelClosed(id), events[40]);
    }

    [Fact(Timeout = 30_000)] // Rust: receiver_set_big_data
    public async Task Select_1MiBMessagesOnTwoReceiversFromTwoThreads_BothArriveIntact()
    {
        (IpcBytesSender tx0, IpcBytesReceiver rx0) = Ipc.BytesChannel();
        (IpcBytesSender tx1, IpcBytesReceiver rx1) = Ipc.BytesChannel();
        using var set = new IpcReceiverSet();
        ulong id0 = set.Add(rx0);
        ulong id1 = set.Add(rx1);
        byte[] data0 = Numbered.Pattern(0, 1024 * 1024);
        byte[] data1 = Numbered.Pattern(1, 1024 * 1024);
        Task send0 = Task.Run(() =>
        {
            using (tx0)
            {
                tx0.Send(data0);
            }
        });
        Task send1 = Task.Run(() =>
        {
            using (tx1)
            {
                tx1.Send(data1);
            }
        });

        // Two messages and two closes.
        List<IpcSelectionResult> events = set.SelectAtLeast(4);
        await Task.WhenAll(send0, send1).WithTimeout();
        Dictionary<ulong, byte[]> messages = events.OfType<IpcMessageReceived>().ToDictionary(e => e.Id, e => e.Message.Data.ToArray());
        Assert.Equal(data0, messages[id0]);
        Assert.Equal(data1, messages[id1]);
        Assert.Equal(2, events.OfType<IpcChannelClosed>().Count());
    }

    [Fact] // The set's contract: one busy channel cannot starve the others
    public void Select_BusyReceiverAndQuietReceiver_TheQuietOneIsReportedPromptly()
    {
        (IpcSender<int> busyTx, IpcReceiver<int> busyRx) = Ipc.Channel<int>();
        (IpcSender<int> quietTx, IpcReceiver<int> quietRx) = Ipc.Channel<int>();
        using var set = new IpcReceiverSet();
        using (busyTx)
        using (quietTx)
        {
            ulong busy = set.Add(busyRx);
            ulong quiet = set.Add(quietRx);
            for (int i = 0; i < 200; i++)
            {
                busyTx.Send(i);
            }

            quietTx.Send(-1);
            int busySeen = 0;
            bool quietSeen = false;
            while (!quietSeen)
            {
                foreach (IpcSelectionResult result in set.SelectAtLeast(1))
                {
                    quietSeen |= result.Id == quiet;
                    busySeen += result.Id == busy ? 1 : 0;
                }
            }

            Assert.True(busySeen < 200, $"the quiet receiver was reported only after all {busySeen} messages of the busy one");
        }
    }

    [Fact]
    public void Add_EveryReceiverKind_MovesIt_AndItsMessagesDeserializeWithHandles()
    {
        (IpcSender<IpcSender<string>> typedTx, IpcReceiver<IpcSender<string>> typedRx) = Ipc.Channel<IpcSender<string>>();
        (IpcBytesSender bytesTx, IpcBytesReceiver bytesRx) = Ipc.BytesChannel();
        (IpcSender<string> opaqueTx, IpcReceiver<string> opaqueRx) = Ipc.Channel<string>();
        (IpcSender<string> replyTx, IpcReceiver<string> replyRx) = Ipc.Channel<string>();
        OpaqueIpcReceiver opaque = opaqueRx.ToOpaque();
        using var set = new IpcReceiverSet();
        using (typedTx)
        using (bytesTx)
        using (opaqueTx)
        using (replyRx)
        {
            ulong typedId = set.Add(typedRx);
            ulong bytesId = set.Add(bytesRx);
            ulong opaqueId = set.AddOpaque(opaque);
            Assert.Equal(new ulong[] { 0, 1, 2 }, new[] { typedId, bytesId, opaqueId });
            Assert.Throws<ObjectDisposedException>(() => typedRx.TryReceive(out _));
            Assert.Throws<ObjectDisposedException>(() => bytesRx.TryReceive(out _));
            Assert.Throws<ObjectDisposedException>(() => opaque.To<string>());

            typedTx.Send(replyTx);
            bytesTx.Send([5, 6]);
            opaqueTx.Send("opaque");
            Dictionary<ulong, IpcMessage> messages = set.SelectAtLeast(3).Cast<IpcMessageReceived>().ToDictionary(r => r.Id, r => r.Message);

            Assert.True(messages[typedId].HasHandles);
            using (IpcSender<string> reply = messages[typedId].Deserialize<IpcSender<string>>())
            {
                reply.Send("through a sender received by a set");
            }

            Assert.Equal("through a sender received by a set", replyRx.ReceiveWithin());
            Assert.Throws<InvalidOperationException>(() => messages[typedId].Deserialize<IpcSender<string>>());
            Assert.Equal(new byte[] { 5, 6 }, messages[bytesId].Data.ToArray());
            Assert.Equal("opaque", messages[opaqueId].Deserialize<string>());
        }
    }

    [Fact]
    public void IpcMessage_DisposedWithoutDeserializing_ClosesItsHandles_AndCannotBeDeserializedAfterwards()
    {
        (IpcSender<IpcSender<int>> tx, IpcReceiver<IpcSender<int>> rx) = Ipc.Channel<IpcSender<int>>();
        (IpcSender<int> subTx, IpcReceiver<int> subRx) = Ipc.Channel<int>();
        using var set = new IpcReceiverSet();
        using (tx)
        using (subRx)
        {
            set.Add(rx);
            tx.Send(subTx);
            IpcMessage message = Assert.IsType<IpcMessageReceived>(Assert.Single(set.SelectAtLeast(1))).Message;
            Assert.True(message.HasHandles);
            message.Dispose();
            subRx.AssertDisconnectedWithin();
            Assert.Throws<InvalidOperationException>(() => message.Deserialize<IpcSender<int>>());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SelectAsync_PendingUntilASend_ThenReportsIt()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using var set = new IpcReceiverSet();
        using (tx)
        {
            ulong id = set.Add(rx);
            ValueTask<IReadOnlyList<IpcSelectionResult>> pending = set.SelectAsync();
            Assert.False(pending.IsCompleted);
            tx.Send(9);
            IpcMessageReceived message = Assert.IsType<IpcMessageReceived>(Assert.Single(await pending.WithTimeout()));
            Assert.Equal(id, message.Id);
            Assert.Equal(9, message.Message.Deserialize<int>());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SelectAsync_Cancelled_ThrowsOperationCanceled_AndConsumesNothing()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using var set = new IpcReceiverSet();
        using (tx)
        {
            set.Add(rx);
            using var cts = new CancellationTokenSource();
            ValueTask<IReadOnlyList<IpcSelectionResult>> pending = set.SelectAsync(cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WithTimeout());

            tx.Send(1);
            IpcMessageReceived message = Assert.IsType<IpcMessageReceived>(Assert.Single(await set.SelectAsync().WithTimeout()));
            Assert.Equal(1, message.Message.Deserialize<int>());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SelectAsync_SetDisposedWhileWaiting_ThrowsObjectDisposed()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        var set = new IpcReceiverSet();
        using (tx)
        {
            set.Add(rx);
            ValueTask<IReadOnlyList<IpcSelectionResult>> pending = set.SelectAsync();
            set.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WithTimeout());
            Assert.Throws<ObjectDisposedException>(() => set.TrySelect());
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(1));
        }
    }

    [Fact]
    public void Dispose_ClosesEveryReceiverInTheSet_SoSendersSeeDisconnected()
    {
        (IpcSender<int> tx0, IpcReceiver<int> rx0) = Ipc.Channel<int>();
        (IpcBytesSender tx1, IpcBytesReceiver rx1) = Ipc.BytesChannel();
        using (tx0)
        using (tx1)
        {
            var set = new IpcReceiverSet();
            set.Add(rx0);
            set.Add(rx1);
            set.Dispose();
            Assert.Throws<IpcDisconnectedException>(() => tx0.Send(1));
            Assert.Throws<IpcDisconnectedException>(() => tx1.Send([1]));
        }
    }
}
