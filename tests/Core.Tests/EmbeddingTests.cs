using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>A record with a sender (multiple_paths_to_a_sender).</summary>
public sealed record PathHolder(Named Person, IpcSender<Named> Sender);

/// <summary>An opaque sender inside a message (embedded_opaque_senders).</summary>
public sealed record OpaqueHolder(OpaqueIpcSender Sender, int Tag);

/// <summary>Bytes channel ends inside a message (embedded_bytes_receivers).</summary>
public sealed record BytesHolder(IpcBytesSender Sender, IpcBytesReceiver Receiver);

/// <summary>Two senders, to check that a send failing on one moves neither.</summary>
public sealed record TwoSenders(IpcSender<int> First, IpcSender<int> Second);

/// <summary>Many senders and a large blob in one message.</summary>
public sealed record SendersAndBlob(List<IpcSender<int>> Senders, byte[] Blob);

/// <summary>Handles that may be absent.</summary>
public sealed record OptionalHandles(IpcSender<int>? Sender, IpcReceiver<int>? Receiver, IpcSharedMemory? Memory, int Tag);

/// <summary>Every handle type at every depth: a field, a nested record, an array, a list and a dictionary value.</summary>
public sealed record DeepMessage(HandleKit Top, Level1 Nested, HandleKit[] Array, List<HandleKit> List, Dictionary<string, HandleKit> Map, HandleKit? Missing);

/// <summary>First nesting level of <see cref="DeepMessage"/>.</summary>
public sealed record Level1(Level2 Inner);

/// <summary>Second nesting level of <see cref="DeepMessage"/>.</summary>
public sealed record Level2(HandleKit Kit);

/// <summary>Handles inside messages: they arrive working and are moved away from the sender (Rust test.rs: embedding).</summary>
public class EmbeddingTests
{
    private static readonly Named s_person = new("Patrick Walton", 29);

    [Fact] // Rust: embedded_senders
    public void Send_SenderInsideATuple_ArrivesWorking_AndIsMovedAway()
    {
        (IpcSender<Named> subTx, IpcReceiver<Named> subRx) = Ipc.Channel<Named>();
        (IpcSender<(IpcSender<Named>, Named)> tx, IpcReceiver<(IpcSender<Named>, Named)> rx) = Ipc.Channel<(IpcSender<Named>, Named)>();
        using (subRx)
        using (tx)
        using (rx)
        {
            tx.Send((subTx, s_person));
            Assert.Throws<ObjectDisposedException>(() => subTx.Send(s_person));

            (IpcSender<Named> received, Named person) = rx.ReceiveWithin();
            using (received)
            {
                Assert.Equal(s_person, person);
                received.Send(person);
                Assert.Equal(s_person, subRx.ReceiveWithin());
            }

            subRx.AssertDisconnectedWithin();
        }
    }

    [Fact(Timeout = 30_000)] // Rust: embedded_receivers
    public async Task Send_ReceiverInsideATuple_ArrivesWithItsQueue_AndKeepsReceiving()
    {
        (IpcSender<Named> subTx, IpcReceiver<Named> subRx) = Ipc.Channel<Named>();
        (IpcSender<(IpcReceiver<Named>, Named)> tx, IpcReceiver<(IpcReceiver<Named>, Named)> rx) = Ipc.Channel<(IpcReceiver<Named>, Named)>();
        using (subTx)
        using (tx)
        using (rx)
        {
            subTx.Send(new Named("queued before the move", 1));
            tx.Send((subRx, s_person));
            Assert.Throws<ObjectDisposedException>(() => subRx.TryReceive(out _));
            subTx.Send(new Named("sent after the move", 2));

            (IpcReceiver<Named> received, Named person) = rx.ReceiveWithin();
            using (received)
            {
                Assert.Equal(s_person, person);
                Assert.Equal(new Named("queued before the move", 1), received.ReceiveWithin());
                Assert.Equal(new Named("sent after the move", 2), received.ReceiveWithin());
                ValueTask<Named> pending = received.ReceiveAsync();
                subTx.Send(new Named("awaited on the moved receiver", 3));
                Assert.Equal(new Named("awaited on the moved receiver", 3), await pending.WithTimeout());
            }
        }
    }

    [Fact] // A message whose type is itself a handle (the server0 of cross_process_embedded_senders)
    public void Send_MessageThatIsASender_ArrivesWorking()
    {
        (IpcSender<IpcSender<Named>> tx, IpcReceiver<IpcSender<Named>> rx) = Ipc.Channel<IpcSender<Named>>();
        (IpcSender<Named> subTx, IpcReceiver<Named> subRx) = Ipc.Channel<Named>();
        using (tx)
        using (rx)
        using (subRx)
        {
            tx.Send(subTx);
            using IpcSender<Named> received = rx.ReceiveWithin();
            received.Send(s_person);
            Assert.Equal(s_person, subRx.ReceiveWithin());
        }
    }

    [Fact] // Rust: multiple_paths_to_a_sender
    public void Send_SameSenderReachedThreeTimes_ArrivesAsThreeWorkingSenders()
    {
        (IpcSender<Named> subTx, IpcReceiver<Named> subRx) = Ipc.Channel<Named>();
        (IpcSender<List<PathHolder>> tx, IpcReceiver<List<PathHolder>> rx) = Ipc.Channel<List<PathHolder>>();
        using (subRx)
        using (tx)
        using (rx)
        {
            var shared = new PathHolder(s_person, subTx);
            tx.Send([shared, shared, shared]);
            Assert.Throws<ObjectDisposedException>(() => subTx.Send(s_person));

            List<PathHolder> received = rx.ReceiveWithin();
            Assert.Equal(3, received.Count);
            Assert.NotSame(received[0].Sender, received[1].Sender);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(s_person, received[i].Person);
                received[i].Sender.Send(new Named("path", (uint)i));
                Assert.Equal(new Named("path", (uint)i), subRx.ReceiveWithin());
            }

            // Each arrived sender is its own handle: the channel stays open until all three are gone.
            received[0].Sender.Dispose();
            received[1].Sender.Dispose();
            Assert.False(subRx.TryReceive(out _));
            received[2].Sender.Dispose();
            subRx.AssertDisconnectedWithin();
        }
    }

    [Fact] // Rust: embedded_opaque_senders
    public void Send_OpaqueSenderInsideAMessage_IsRetypedByTheReceiver_AndWorks()
    {
        (IpcSender<Named> subTx, IpcReceiver<Named> subRx) = Ipc.Channel<Named>();
        (IpcSender<OpaqueHolder> tx, IpcReceiver<OpaqueHolder> rx) = Ipc.Channel<OpaqueHolder>();
        using (subRx)
        using (tx)
        using (rx)
        {
            OpaqueIpcSender opaque = subTx.ToOpaque();
            tx.Send(new OpaqueHolder(opaque, 7));
            Assert.Throws<ObjectDisposedException>(() => opaque.Clone());

            OpaqueHolder holder = rx.ReceiveWithin();
            Assert.Equal(7, holder.Tag);
            using IpcSender<Named> typed = holder.Sender.To<Named>();
            typed.Send(s_person);
            Assert.Equal(s_person, subRx.ReceiveWithin());
        }
    }

    [Fact] // Rust: embedded_bytes_receivers (which sends a bytes sender), plus a bytes receiver
    public void Send_BytesChannelEndsInsideAMessage_ArriveWorking()
    {
        (IpcBytesSender bytesTx, IpcBytesReceiver keptRx) = Ipc.BytesChannel();
        (IpcBytesSender keptTx, IpcBytesReceiver bytesRx) = Ipc.BytesChannel();
        (IpcSender<BytesHolder> tx, IpcReceiver<BytesHolder> rx) = Ipc.Channel<BytesHolder>();
        using (keptRx)
        using (keptTx)
        using (tx)
        using (rx)
        {
            keptTx.Send([9, 9]);
            tx.Send(new BytesHolder(bytesTx, bytesRx));
            Assert.Throws<ObjectDisposedException>(() => bytesTx.Send([1]));
            Assert.Throws<ObjectDisposedException>(() => bytesRx.TryReceive(out _));

            BytesHolder holder = rx.ReceiveWithin();
            using (holder.Sender)
            using (holder.Receiver)
            {
                holder.Sender.Send([1, 2, 3, 4, 5, 6, 7]);
                Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7 }, keptRx.ReceiveWithin());
                Assert.Equal(new byte[] { 9, 9 }, holder.Receiver.ReceiveWithin());
            }
        }
    }

    [Fact] // Rust: transfer_closed_sender
    public void Send_SenderWhoseReceiverIsGone_IsTransferred_AndReportsDisconnectedOnArrival()
    {
        (IpcSender<int> closedTx, IpcReceiver<int> closedRx) = Ipc.Channel<int>();
        closedRx.Dispose();
        (IpcSender<IpcSender<int>> tx, IpcReceiver<IpcSender<int>> rx) = Ipc.Channel<IpcSender<int>>();
        using (tx)
        using (rx)
        {
            tx.Send(closedTx);
            using IpcSender<int> received = rx.ReceiveWithin();
            Assert.Throws<IpcDisconnectedException>(() => received.Send(1));
        }
    }

    [Fact] // Semantics: every handle type, at any depth, arrives working and is moved
    public void Send_EveryHandleTypeAtEveryDepth_ArrivesWorking_AndEveryOriginalIsMoved()
    {
        using var top = new KitHarness("top");
        using var nested = new KitHarness("nested");
        using var array0 = new KitHarness("array0");
        using var array1 = new KitHarness("array1");
        using var list = new KitHarness("list");
        using var map = new KitHarness("map");
        (IpcSender<DeepMessage> tx, IpcReceiver<DeepMessage> rx) = Ipc.Channel<DeepMessage>();
        using (tx)
        using (rx)
        {
            tx.Send(new DeepMessage(
                top.Kit,
                new Level1(new Level2(nested.Kit)),
                [array0.Kit, array1.Kit],
                [list.Kit],
                new Dictionary<string, HandleKit> { ["key"] = map.Kit },
                null));
            foreach (KitHarness harness in new[] { top, nested, array0, array1, list, map })
            {
                harness.AssertMoved();
            }

            DeepMessage received = rx.ReceiveWithin();
            Assert.Null(received.Missing);
            top.AssertWorks(received.Top);
            nested.AssertWorks(received.Nested.Inner.Kit);
            Assert.Equal(2, received.Array.Length);
            array0.AssertWorks(received.Array[0]);
            array1.AssertWorks(received.Array[1]);
            list.AssertWorks(Assert.Single(received.List));
            map.AssertWorks(received.Map["key"]);
        }
    }

    [Fact] // Rust #395 / servo #36792: more handles than one control message carries, with a large body
    public void Send_300SendersAndALargeBodyInOneMessage_AllArriveWorking()
    {
        const int Count = 300;
        (IpcSender<SendersAndBlob> tx, IpcReceiver<SendersAndBlob> rx) = Ipc.Channel<SendersAndBlob>();
        var receivers = new IpcReceiver<int>[Count];
        var senders = new IpcSender<int>[Count];
        for (int i = 0; i < Count; i++)
        {
            (senders[i], receivers[i]) = Ipc.Channel<int>();
        }

        using (tx)
        using (rx)
        {
            byte[] blob = Numbered.Pattern(9, 300_000);
            tx.Send(new SendersAndBlob([.. senders], blob));
            Assert.All(senders, s => Assert.Throws<ObjectDisposedException>(() => s.Send(0)));

            SendersAndBlob received = rx.ReceiveWithin();
            Assert.Equal(blob, received.Blob);
            Assert.Equal(Count, received.Senders.Count);
            for (int i = 0; i < Count; i++)
            {
                using (IpcSender<int> sender = received.Senders[i])
                {
                    sender.Send(i);
                }

                Assert.Equal(i, receivers[i].ReceiveWithin());
                receivers[i].AssertDisconnectedWithin();
                receivers[i].Dispose();
            }
        }
    }

    [Fact]
    public void Send_NullHandleFields_ArriveAsNull()
    {
        (IpcSender<OptionalHandles> tx, IpcReceiver<OptionalHandles> rx) = Ipc.Channel<OptionalHandles>();
        using (tx)
        using (rx)
        {
            tx.Send(new OptionalHandles(null, null, null, 5));
            OptionalHandles received = rx.ReceiveWithin();
            Assert.Equal(new OptionalHandles(null, null, null, 5), received);
        }
    }

    [Fact]
    public void Send_WithADisposedEmbeddedHandle_ThrowsObjectDisposed_SendsAndMovesNothing()
    {
        (IpcSender<int> firstTx, IpcReceiver<int> firstRx) = Ipc.Channel<int>();
        (IpcSender<int> secondTx, IpcReceiver<int> secondRx) = Ipc.Channel<int>();
        (IpcSender<TwoSenders> tx, IpcReceiver<TwoSenders> rx) = Ipc.Channel<TwoSenders>();
        using (firstTx)
        using (firstRx)
        using (secondRx)
        using (tx)
        using (rx)
        {
            secondTx.Dispose();
            Assert.Throws<ObjectDisposedException>(() => tx.Send(new TwoSenders(firstTx, secondTx)));
            Assert.False(rx.TryReceive(out _));
            firstTx.Send(1);
            Assert.Equal(1, firstRx.ReceiveWithin());
        }
    }

    [Fact]
    public void Send_SameValueTwice_SecondThrowsObjectDisposed_BecauseTheFirstMovedItsHandles()
    {
        (IpcSender<int> subTx, IpcReceiver<int> subRx) = Ipc.Channel<int>();
        (IpcSender<OptionalHandles> tx, IpcReceiver<OptionalHandles> rx) = Ipc.Channel<OptionalHandles>();
        using (subRx)
        using (tx)
        using (rx)
        {
            var message = new OptionalHandles(subTx, null, null, 1);
            tx.Send(message);
            Assert.Throws<ObjectDisposedException>(() => tx.Send(message));
            using (IpcSender<int>? received = rx.ReceiveWithin().Sender)
            {
                Assert.NotNull(received);
            }

            Assert.False(rx.TryReceive(out _));
        }
    }

    [Fact] // Rust §2.2: a sender in flight inside an unread message keeps its channel open
    public void Receive_LastSenderInFlightInsideAnUnreadMessage_ChannelStaysOpen_UntilThatCopyCloses()
    {
        (IpcSender<int> subTx, IpcReceiver<int> subRx) = Ipc.Channel<int>();
        (IpcSender<IpcSender<int>> tx, IpcReceiver<IpcSender<int>> rx) = Ipc.Channel<IpcSender<int>>();
        using (subRx)
        using (tx)
        using (rx)
        {
            tx.Send(subTx);
            Assert.False(subRx.TryReceive(out _));
            Assert.False(subRx.TryReceive(TimeSpan.FromMilliseconds(50), out _));

            IpcSender<int> arrived = rx.ReceiveWithin();
            arrived.Send(3);
            Assert.Equal(3, subRx.ReceiveWithin());
            arrived.Dispose();
            subRx.AssertDisconnectedWithin();
        }
    }

    [Fact] // Rust: cross_process_two_step_transfer, in one process
    public void Send_ReceiverWhoseQueueHoldsAReceiver_BothArriveWithTheirQueues()
    {
        (IpcSender<string> cookieTx, IpcReceiver<string> cookieRx) = Ipc.Channel<string>();
        (IpcSender<IpcReceiver<string>> middleTx, IpcReceiver<IpcReceiver<string>> middleRx) = Ipc.Channel<IpcReceiver<string>>();
        (IpcSender<IpcReceiver<IpcReceiver<string>>> outerTx, IpcReceiver<IpcReceiver<IpcReceiver<string>>> outerRx) = Ipc.Channel<IpcReceiver<IpcReceiver<string>>>();
        using (cookieTx)
        using (middleTx)
        using (outerTx)
        using (outerRx)
        {
            cookieTx.Send("cookie");
            middleTx.Send(cookieRx);
            outerTx.Send(middleRx);

            using IpcReceiver<IpcReceiver<string>> middle = outerRx.ReceiveWithin();
            using IpcReceiver<string> cookies = middle.ReceiveWithin();
            Assert.Equal("cookie", cookies.ReceiveWithin());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SendAsync_WithHandles_CancelledWhileTheChannelIsFull_MovesAndSendsNothing_ThenALaterSendMovesThem()
    {
        (IpcSender<OptionalHandles> tx, IpcReceiver<OptionalHandles> rx) = Ipc.Channel<OptionalHandles>();
        (IpcSender<int> subTx, IpcReceiver<int> subRx) = Ipc.Channel<int>();
        var memory = IpcSharedMemory.FromBytes([1, 2, 3]);
        using (tx)
        using (rx)
        using (subRx)
        {
            // Fill the channel: the first send that has to wait is cancelled, so nothing waits any more.
            int queued = 0;
            while (true)
            {
                using var fillCts = new CancellationTokenSource();
                ValueTask filling = tx.SendAsync(new OptionalHandles(null, null, null, queued), fillCts.Token);
                if (!filling.IsCompleted)
                {
                    fillCts.Cancel();
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => filling.WithTimeout());
                    break;
                }

                await filling;
                queued++;
            }

            // A send with handles waits for room, is cancelled: its handles stay here and nothing is sent.
            using (var cts = new CancellationTokenSource())
            {
                ValueTask withHandles = tx.SendAsync(new OptionalHandles(subTx, null, memory, -1), cts.Token);
                Assert.False(withHandles.IsCompleted);
                cts.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withHandles.WithTimeout());
            }

            subTx.Send(5);
            Assert.Equal(5, subRx.ReceiveWithin());
            Assert.Equal(new byte[] { 1, 2, 3 }, memory.ToArray());

            // Once it can go, a send moves them.
            ValueTask later = tx.SendAsync(new OptionalHandles(subTx, null, memory, -2));
            for (int i = 0; i < queued; i++)
            {
                Assert.Equal(i, rx.ReceiveWithin().Tag);
            }

            await later.WithTimeout();
            Assert.Throws<ObjectDisposedException>(() => subTx.Send(6));
            Assert.Throws<ObjectDisposedException>(() => memory.Length);
            OptionalHandles moved = rx.ReceiveWithin();
            Assert.Equal(-2, moved.Tag);
            using (IpcSender<int> arrived = moved.Sender!)
            using (IpcSharedMemory arrivedMemory = moved.Memory!)
            {
                arrived.Send(7);
                Assert.Equal(7, subRx.ReceiveWithin());
                Assert.Equal(new byte[] { 1, 2, 3 }, arrivedMemory.ToArray());
            }

            Assert.False(rx.TryReceive(out _));
        }
    }
}
