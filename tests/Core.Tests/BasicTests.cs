using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using MessagePack;
using MessagePack.Formatters;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>Sending, receiving and disconnecting on one channel (Rust test.rs: basic and receive variants).</summary>
public class BasicTests
{
    private static readonly Named s_person = new("Patrick Walton", 29);

    [Fact] // Rust: simple
    public void Receive_AfterSend_ReturnsValue_ThenDisconnectedOnceSenderDisposed()
    {
        (IpcSender<Named> tx, IpcReceiver<Named> rx) = Ipc.Channel<Named>();
        using (rx)
        {
            tx.Send(s_person);
            Assert.Equal(s_person, rx.ReceiveWithin());
            tx.Dispose();
            Assert.Throws<IpcDisconnectedException>(() => ReceiveExtensions.Bounded(rx.Receive));
        }
    }

    [Fact] // Rust: disconnect_non_empty_channel
    public void Receive_SenderDisposedWithMessagesQueued_DeliversThemInOrder_ThenDisconnected()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (rx)
        {
            for (int i = 0; i < 100; i++)
            {
                tx.Send(i);
            }

            tx.Dispose();
            for (int i = 0; i < 100; i++)
            {
                Assert.Equal(i, ReceiveExtensions.Bounded(rx.Receive));
            }

            Assert.Throws<IpcDisconnectedException>(() => ReceiveExtensions.Bounded(rx.Receive));
        }
    }

    [Fact] // Semantics: a disconnected channel stays disconnected
    public void Receive_AfterDisconnected_KeepsThrowingDisconnected()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (rx)
        {
            tx.Dispose();
            Assert.Throws<IpcDisconnectedException>(() => ReceiveExtensions.Bounded(rx.Receive));
            Assert.Throws<IpcDisconnectedException>(() => rx.TryReceive(out _));
            Assert.Throws<IpcDisconnectedException>(() => rx.TryReceive(TimeSpan.FromMilliseconds(10), out _));
            Assert.Throws<IpcDisconnectedException>(() => ReceiveExtensions.Bounded(rx.Receive));
        }
    }

    [Fact] // Rust: router_drops_callbacks_on_cloned_sender_shutdown (the channel-level rule)
    public void Receive_OneOfSeveralClonesDisposed_StaysConnected_UntilTheLastCloneGoes()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (rx)
        {
            IpcSender<int>[] clones = [tx.Clone(), tx.Clone(), tx.Clone()];
            tx.Dispose();
            Assert.Throws<ObjectDisposedException>(() => tx.Send(0));
            for (int i = 0; i < clones.Length; i++)
            {
                Assert.False(rx.TryReceive(out _));
                clones[i].Send(i);
                Assert.Equal(i, rx.ReceiveWithin());
                clones[i].Dispose();
            }

            Assert.Throws<IpcDisconnectedException>(() => rx.TryReceive(out _));
        }
    }

    [Fact] // Rust: try_recv
    public void TryReceive_EmptyThenValueThenEmpty_ThenDisconnected()
    {
        (IpcSender<Named> tx, IpcReceiver<Named> rx) = Ipc.Channel<Named>();
        using (rx)
        {
            Assert.False(rx.TryReceive(out _));
            tx.Send(s_person);
            Assert.True(rx.TryReceive(out Named? received));
            Assert.Equal(s_person, received);
            Assert.False(rx.TryReceive(out _));
            tx.Dispose();
            Assert.Throws<IpcDisconnectedException>(() => rx.TryReceive(out _));
        }
    }

    [Fact] // Rust: try_recv_timeout
    public void TryReceiveTimeout_EmptyWaitsTheTimeout_QueuedReturnsAtOnce_EmptyAgainWaitsAgain_ThenDisconnected()
    {
        (IpcSender<Named> tx, IpcReceiver<Named> rx) = Ipc.Channel<Named>();
        using (rx)
        {
            TimeSpan timeout = TimeSpan.FromSeconds(1);
            var clock = Stopwatch.StartNew();
            Assert.False(rx.TryReceive(timeout, out _));
            Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(1), $"returned Empty after {clock.Elapsed}, before the {timeout} timeout");

            tx.Send(s_person);
            clock.Restart();
            Assert.True(rx.TryReceive(timeout, out Named? received));
            Assert.True(clock.Elapsed < timeout, $"a queued message took {clock.Elapsed}: the receive waited out its timeout");
            Assert.Equal(s_person, received);

            // Taken: the next timed receive finds nothing and waits its whole timeout again.
            clock.Restart();
            Assert.False(rx.TryReceive(timeout, out _));
            Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(1), $"the second empty receive returned after {clock.Elapsed}");

            tx.Dispose();
            clock.Restart();
            Assert.Throws<IpcDisconnectedException>(() => rx.TryReceive(timeout, out _));
            Assert.True(clock.Elapsed < timeout, $"the disconnection took {clock.Elapsed}: the receive waited out its timeout");
        }
    }

    [Fact]
    public void TryReceiveTimeout_NegativeTimeout_ThrowsArgumentOutOfRange()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        using (rx)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => rx.TryReceive(TimeSpan.FromMilliseconds(-5), out _));
        }
    }

    [Fact(Timeout = 30_000)] // Rust: test_receiver_stream
    public async Task ReceiveAsync_OnEmptyChannel_StaysPending_ThenCompletesAfterASend()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        using (rx)
        {
            ValueTask<int> pending = rx.ReceiveAsync();
            Assert.False(pending.IsCompleted);
            tx.Send(5);
            Assert.Equal(5, await pending.WithTimeout());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_Cancelled_ThrowsOperationCanceled_AndConsumesNothing()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        using (rx)
        {
            using var cts = new CancellationTokenSource();
            ValueTask<int> pending = rx.ReceiveAsync(cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WithTimeout());

            tx.Send(1);
            tx.Send(2);
            Assert.Equal(1, await rx.ReceiveAsync().WithTimeout());
            Assert.Equal(2, rx.ReceiveWithin());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_SenderDisposedWhileWaiting_ThrowsDisconnected()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (rx)
        {
            ValueTask<int> pending = rx.ReceiveAsync();
            tx.Dispose();
            await Assert.ThrowsAsync<IpcDisconnectedException>(() => pending.WithTimeout());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_ReceiverDisposedWhileWaiting_ThrowsObjectDisposed_AndSendersSeeDisconnected()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            ValueTask<int> pending = rx.ReceiveAsync();
            rx.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WithTimeout());
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(1));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadAllAsync_Cancelled_ThrowsOperationCanceled()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        using (rx)
        {
            tx.Send(1);
            using var cts = new CancellationTokenSource();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (int value in rx.ReadAllAsync(cts.Token))
                {
                    Assert.Equal(1, value);
                    cts.Cancel();
                }
            });
        }
    }

    [Fact(Timeout = 30_000)] // Semantics: ReadAllAsync simply ends on disconnection
    public async Task ReadAllAsync_ReadsEveryMessageInOrder_ThenEnds()
    {
        (IpcSender<Named> tx, IpcReceiver<Named> rx) = Ipc.Channel<Named>();
        using (rx)
        {
            Task<List<Named>> reading = Task.Run(async () =>
            {
                var seen = new List<Named>();
                await foreach (Named n in rx.ReadAllAsync())
                {
                    seen.Add(n);
                }

                return seen;
            });
            for (int i = 0; i < 50; i++)
            {
                await tx.SendAsync(new Named($"n{i}", (uint)i));
            }

            tx.Dispose();
            List<Named> all = await reading.WithTimeout();
            Assert.Equal(50, all.Count);
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal(new Named($"n{i}", (uint)i), all[i]);
            }
        }
    }

    [Fact] // Rust: test_so_linger (#29): data written just before closing is not lost
    public void Receive_ValueSentJustBeforeSenderDisposed_IsReceived()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (rx)
        {
            tx.Send(42);
            tx.Dispose();
            Assert.Equal(42, rx.ReceiveWithin());
        }
    }

    [Fact] // Semantics: Send after every receiver is gone
    public void Send_AfterReceiverDisposed_ThrowsDisconnected()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            rx.Dispose();
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(1));
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(2));
        }
    }

    [Fact] // Rust: no_receiver_notification_pending (ECONNRESET rather than EPIPE)
    public void Send_AfterReceiverDisposedWithUnreadMessages_ThrowsDisconnected()
    {
        (IpcSender<byte[]> tx, IpcReceiver<byte[]> rx) = Ipc.Channel<byte[]>();
        using (tx)
        {
            tx.Send(new byte[100]);
            tx.Send(new byte[300_000]);
            rx.Dispose();
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(new byte[10]));
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(new byte[300_000]));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SendAsync_AfterReceiverDisposed_ThrowsDisconnected()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            rx.Dispose();
            await Assert.ThrowsAsync<IpcDisconnectedException>(() => tx.SendAsync(1).WithTimeout());
        }
    }

    [Fact(Timeout = 30_000)] // Semantics: Send never blocks forever on a dead peer
    public async Task Send_BlockedOnAFullChannel_ThrowsDisconnectedWhenTheReceiverGoes()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            // Fill the socket buffer: SendAsync stays pending once it is full.
            int queued = 0;
            using var cts = new CancellationTokenSource();
            ValueTask pendingAsync;
            while (true)
            {
                pendingAsync = tx.SendAsync(queued, cts.Token);
                if (!pendingAsync.IsCompleted)
                {
                    break;
                }

                await pendingAsync;
                queued++;
                Assert.True(queued < 100_000, "the channel never filled up");
            }

            // A blocking Send on another thread now waits for room (or is about to).
            using var started = new ManualResetEventSlim();
            Task blocked = Task.Factory.StartNew(
                () =>
                {
                    started.Set();
                    tx.Send(-1);
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            Assert.True(started.Wait(ReceiveExtensions.Patience));

            rx.Dispose();
            await Assert.ThrowsAsync<IpcDisconnectedException>(() => blocked.WithTimeout());
            await Assert.ThrowsAsync<IpcDisconnectedException>(() => pendingAsync.WithTimeout());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SendAsync_OnAFullChannel_CompletesOnceTheReceiverReads_AndCancelledSendSendsNothing()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        using (rx)
        {
            int queued = 0;
            ValueTask pending;
            while (true)
            {
                pending = tx.SendAsync(queued);
                if (!pending.IsCompleted)
                {
                    break;
                }

                await pending;
                queued++;
            }

            // A second one, cancelled while waiting for room: it must send nothing.
            using var cts = new CancellationTokenSource();
            ValueTask cancelled = tx.SendAsync(-1, cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WithTimeout());

            // The pending send goes out once the reader made room; it arrives last.
            for (int i = 0; i <= queued; i++)
            {
                Assert.Equal(i, rx.ReceiveWithin());
            }

            await pending.WithTimeout();
            Assert.False(rx.TryReceive(out int extra), $"the cancelled send delivered {extra}");
        }
    }

    [Fact] // Semantics: messages of any size arrive whole, not limited by the socket buffer
    public void Send_MessageManyTimesTheSocketBuffer_ArrivesWhole_WithoutWaitingForTheReader()
    {
        (IpcSender<Numbered> tx, IpcReceiver<Numbered> rx) = Ipc.Channel<Numbered>();
        using (tx)
        using (rx)
        {
            const int Size = 8 * 1024 * 1024;

            // Same thread: the sends must not wait for the reader (Rust deadlocks here, #101).
            tx.Send(new Numbered(1, Numbered.Pattern(1, Size)));
            tx.Send(new Numbered(2, Numbered.Pattern(2, 5)));
            tx.Send(new Numbered(3, Numbered.Pattern(3, Size / 3)));
            Numbered first = rx.ReceiveWithin();
            Assert.Equal(1, first.Index);
            Assert.True(first.IsWhole(Size));
            Assert.True(rx.ReceiveWithin().IsWhole(5));
            Assert.True(rx.ReceiveWithin().IsWhole(Size / 3));
        }
    }

    [Fact] // Rust: bytes (odd length checks alignment handling)
    public void BytesChannel_OddLength_RoundTrips()
    {
        (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
        using (rx)
        {
            byte[] data = [0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7];
            tx.Send(data);
            Assert.Equal(data, rx.ReceiveWithin());
            tx.Send([]);
            Assert.Empty(rx.ReceiveWithin());
            tx.Dispose();
            Assert.Throws<IpcDisconnectedException>(() => ReceiveExtensions.Bounded(rx.Receive));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task BytesChannel_BufferWriterOverloads_AppendWholeMessages()
    {
        (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
        using (rx)
        {
            var destination = new ArrayBufferWriter<byte>();
            destination.Write(new byte[] { 0xAA });
            Assert.False(rx.TryReceive(destination));

            byte[] big = Numbered.Pattern(7, 400_000);
            tx.Send([1, 2]);
            tx.Send(big);
            await tx.SendAsync(new byte[] { 3 });
            ReceiveExtensions.Bounded(() =>
            {
                rx.Receive(destination);
                return true;
            });
            Assert.True(rx.TryReceive(TimeSpan.FromSeconds(20), destination));
            await rx.ReceiveAsync(destination).WithTimeout();
            byte[] expected = [0xAA, 1, 2, .. big, 3];
            Assert.Equal(expected, destination.WrittenSpan.ToArray());

            ValueTask pending = rx.ReceiveAsync(destination);
            Assert.False(pending.IsCompleted);
            tx.Send([4]);
            await pending.WithTimeout();
            Assert.Equal(4, destination.WrittenSpan[^1]);

            tx.Dispose();
            await Assert.ThrowsAsync<IpcDisconnectedException>(() => rx.ReceiveAsync().WithTimeout());
            Assert.Throws<IpcDisconnectedException>(() => rx.TryReceive(destination));
        }
    }

    [Fact] // Rust: opaque_sender
    public void ToOpaque_ThenTo_StillDelivers_AndMovesTheTypedSender()
    {
        (IpcSender<Named> tx, IpcReceiver<Named> rx) = Ipc.Channel<Named>();
        using (rx)
        {
            OpaqueIpcSender opaque = tx.ToOpaque();
            Assert.Throws<ObjectDisposedException>(() => tx.Send(s_person));
            using IpcSender<Named> typed = opaque.To<Named>();
            Assert.Throws<ObjectDisposedException>(() => opaque.To<Named>());
            typed.Send(s_person);
            Assert.Equal(s_person, rx.ReceiveWithin());
        }
    }

    [Fact]
    public void OpaqueReceiver_ToAndToBytes_ReceiveTheSameChannel()
    {
        (IpcSender<string> tx, IpcReceiver<string> rx) = Ipc.Channel<string>();
        using (tx)
        {
            OpaqueIpcReceiver opaque = rx.ToOpaque();
            Assert.Throws<ObjectDisposedException>(() => rx.TryReceive(out _));
            using IpcReceiver<string> typed = opaque.To<string>();
            tx.Send("typed");
            Assert.Equal("typed", typed.ReceiveWithin());

            using IpcBytesReceiver bytes = typed.ToOpaque().ToBytes();
            tx.Send("raw");
            Assert.Equal("raw", MessagePackSerializer.Deserialize<string>(bytes.ReceiveWithin()));
        }
    }

    [Fact] // Rust: clone_sender_after_receiver_dropped
    public void Clone_AfterReceiverDisposed_Succeeds_AndSendThrowsDisconnected()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        rx.Dispose();
        using (tx)
        using (IpcSender<int> clone = tx.Clone())
        {
            Assert.Throws<IpcDisconnectedException>(() => clone.Send(1));
        }
    }

    [Fact]
    public void Dispose_IsIdempotent_AndDisposedEndsThrowObjectDisposed()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        tx.Dispose();
        tx.Dispose();
        rx.Dispose();
        rx.Dispose();
        Assert.Throws<ObjectDisposedException>(() => tx.Send(1));
        Assert.Throws<ObjectDisposedException>(() => tx.Clone());
        Assert.Throws<ObjectDisposedException>(() => ReceiveExtensions.Bounded(rx.Receive));
        Assert.Throws<ObjectDisposedException>(() => rx.TryReceive(out _));

        (IpcBytesSender btx, IpcBytesReceiver brx) = Ipc.BytesChannel();
        btx.Dispose();
        brx.Dispose();
        btx.Dispose();
        brx.Dispose();
        Assert.Throws<ObjectDisposedException>(() => btx.Send([1]));
        Assert.Throws<ObjectDisposedException>(() => ReceiveExtensions.Bounded(brx.Receive));
    }

    [Fact] // Rust: test_reentrant
    public void Send_SerializerSendsOnTheSameChannel_InnerMessageArrivesFirst()
    {
        (IpcSender<Reentrant> tx, IpcReceiver<Reentrant> rx) = Ipc.Channel<Reentrant>();
        using (tx)
        using (rx)
        {
            tx.Send(new Reentrant(1, tx));
            Assert.Equal(2, rx.ReceiveWithin().Value);
            Assert.Equal(1, rx.ReceiveWithin().Value);
            Assert.False(rx.TryReceive(out _));

            // The channel is still whole after the re-entrant send: a plain send arrives.
            tx.Send(new Reentrant(3, null));
            Assert.Equal(3, rx.ReceiveWithin().Value);
            Assert.False(rx.TryReceive(out _));
        }
    }

    [Fact]
    public void IpcMessageFromData_DeserializesTheBytes_AndToStringShowsAtMost256Bytes()
    {
        byte[] body = MessagePackSerializer.Serialize(new string('x', 1000));
        using IpcMessage message = IpcMessage.FromData(body);
        Assert.False(message.HasHandles);
        Assert.Equal(new string('x', 1000), message.Deserialize<string>());
        Assert.Equal(new string('x', 1000), message.Deserialize<string>());
        string text = message.ToString();
        Assert.Contains($"({body.Length} bytes)", text, StringComparison.Ordinal);
        Assert.True(text.Length < 600, text);
    }
}

/// <summary>A value whose serializer sends another message on the channel it is being sent on (test_reentrant).</summary>
[MessagePackFormatter(typeof(ReentrantFormatter))]
public sealed record Reentrant(int Value, IpcSender<Reentrant>? SendFirst);

/// <summary>Writes <see cref="Reentrant.Value"/>; first sends <c>Value + 1</c> through <see cref="Reentrant.SendFirst"/>.</summary>
public sealed class ReentrantFormatter : IMessagePackFormatter<Reentrant>
{
    public void Serialize(ref MessagePackWriter writer, Reentrant value, MessagePackSerializerOptions options)
    {
        value.SendFirst?.Send(new Reentrant(value.Value + 1, null));
        writer.Write(value.Value);
    }

    public Reentrant Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) => new(reader.ReadInt32(), null);
}
