using System;
using System.Buffers;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Closing either end (Rust: no_senders_notification*, no_receiver_notification*, disconnect_non_empty_channel,
/// test_so_linger): a receiver sees every queued message and then a sticky close; a sender whose receiver is gone
/// gets <see cref="IpcDisconnectedException"/>, never SIGPIPE and never a hang.
/// </summary>
public class DisconnectTests
{
    [Fact]
    [Trait("Rust", "no_senders_notification")]
    public void NoSendersNotification_SenderDisposed_ReceiveReportsClosed()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            tx.Dispose();
            rx.AssertClosed();
        }
    }

    [Fact]
    [Trait("Rust", "no_receiver_notification")]
    public void NoReceiverNotification_ReceiverDisposed_SendThrowsDisconnectedWithEpipe()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        {
            rx.Dispose();
            IpcDisconnectedException error = Assert.Throws<IpcDisconnectedException>(() => tx.Send("x"u8));
            Assert.Equal(Interop.Errno.EPIPE, error.Errno);
            Assert.Throws<IpcDisconnectedException>(() => tx.Send("again"u8)); // and it stays that way
        }
    }

    [Fact]
    [Trait("Rust", "no_receiver_notification_pending")]
    public void NoReceiverNotificationPending_UnreadMessage_SendThrowsDisconnected()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        {
            tx.Send("never read"u8);
            rx.Dispose();
            IpcDisconnectedException error = Assert.Throws<IpcDisconnectedException>(() => tx.Send("x"u8));
            Assert.Contains(error.Errno, new[] { Interop.Errno.ECONNRESET, Interop.Errno.EPIPE });
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(300_000, 0)]
    [InlineData(10, 300)]
    public void Send_AfterReceiverClosed_EveryPathThrowsDisconnected(int size, int handles)
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender other, TransportReceiver otherRx) = T.CreateChannel();
        using (tx)
        using (other)
        using (otherRx)
        {
            rx.Dispose();
            var ends = new TransportChannelEnd[handles];
            Array.Fill(ends, other);
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(new byte[size], ends, default));
        }
    }

    [Fact(Timeout = 30_000)]
    [Trait("Rust", "no_receiver_notification_delayed")]
    public async Task NoReceiverNotificationDelayed_ReceiverDisposedByAnotherThread_SenderLoopEndsDisconnected()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        var firstSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task closer = Task.Run(async () =>
        {
            await firstSent.Task.ConfigureAwait(false);
            rx.Dispose();
        });
        using (tx)
        {
            Task<int> sender = Task.Factory.StartNew(
                () =>
                {
                    for (int sent = 0; ; sent++)
                    {
                        try
                        {
                            tx.Send("loop"u8);
                        }
                        catch (IpcDisconnectedException)
                        {
                            return sent;
                        }

                        firstSent.TrySetResult();
                    }
                },
                TaskCreationOptions.LongRunning);
            Assert.True(await sender.WithTimeout() >= 1);
            await closer.WithTimeout();
        }
    }

    [Fact]
    [Trait("Rust", "no_senders_notification_try_recv")]
    public void NoSendersNotificationTryReceive_EmptyWhileSenderLives_ClosedAfter()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            rx.AssertEmpty();
            tx.Dispose();
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Closed, rx.TryReceive(buffer, out _));
        }
    }

    [Fact(Timeout = 30_000)]
    [Trait("Rust", "no_senders_notification_try_recv_delayed")]
    public async Task NoSendersNotificationTryReceiveDelayed_SenderDisposedByAnotherThread_TryReceiveEventuallyClosed()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            var polling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task closer = Task.Run(async () =>
            {
                await polling.Task.ConfigureAwait(false);
                tx.Dispose();
            });
            var buffer = new ArrayBufferWriter<byte>();
            ReceiveStatus status = ReceiveStatus.Empty;
            Poll.Until(
                () =>
                {
                    status = rx.TryReceive(buffer, out _);
                    polling.TrySetResult();
                    return status != ReceiveStatus.Empty;
                },
                "the close to reach TryReceive");
            Assert.Equal(ReceiveStatus.Closed, status);
            await closer.WithTimeout();
        }
    }

    [Fact(Timeout = 30_000)]
    [Trait("Rust", "disconnect_non_empty_channel")]
    public async Task Disconnect_QueuedMessagesOfEveryKind_DeliveredBeforeStickyClose()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(100));
        using (subTx)
        using (subRx)
        using (rx)
        {
            tx.Send(Payload.Pattern(5, seed: 1));
            tx.Send(Payload.Pattern(300_000, seed: 2));
            tx.Send(Payload.Pattern(6, seed: 3), [subTx], [region]);
            var many = new TransportChannelEnd[300];
            Array.Fill(many, subTx);
            tx.Send(Payload.Pattern(7, seed: 4), many, default);
            tx.Dispose();

            Payload.AssertPattern(rx.ReceiveBytes(), 5, seed: 1);
            Payload.AssertPattern(rx.ReceiveBytes(), 300_000, seed: 2);
            (byte[] third, ReceivedHandles? h3) = rx.ReceiveMessage();
            Payload.AssertPattern(third, 6, seed: 3);
            Assert.Equal((1, 1), (h3!.ChannelCount, h3.RegionCount));
            h3.Dispose();
            (byte[] fourth, ReceivedHandles? h4) = rx.ReceiveMessage();
            Payload.AssertPattern(fourth, 7, seed: 4);
            Assert.Equal(300, h4!.ChannelCount);
            h4.Dispose();

            // Closed, and it stays closed through every kind of receive.
            rx.AssertClosed();
            rx.AssertClosed();
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Closed, rx.TryReceive(buffer, out _));
            Assert.Equal(ReceiveStatus.Closed, rx.Receive(TimeSpan.Zero, buffer, out _));
            Assert.Equal(ReceiveStatus.Closed, rx.Receive(Timeout.InfiniteTimeSpan, buffer, out _));
            (ReceiveStatus status, ReceivedHandles? none) = await rx.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
            Assert.Equal(ReceiveStatus.Closed, status);
            Assert.Null(none);
            Assert.Equal(0, buffer.WrittenCount);
        }
    }

    [Fact]
    [Trait("Rust", "test_so_linger")]
    public void SendThenCloseImmediately_MessageStillArrives()
    {
        for (int i = 0; i < 20; i++)
        {
            (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
            using (rx)
            {
                tx.Send([42]);
                tx.Dispose();
                Assert.Equal(new byte[] { 42 }, rx.ReceiveBytes());
                rx.AssertClosed();
            }
        }
    }

    [Fact]
    [Trait("Rust", "router_drops_callbacks_on_cloned_sender_shutdown")]
    public void Clones_ChannelClosesOnlyWhenLastCloneIsDisposed()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        TransportSender[] clones = [tx.Clone(), tx.Clone(), tx.Clone()];
        using (rx)
        {
            foreach (TransportSender clone in clones)
            {
                clone.Dispose();
                rx.AssertEmpty();
            }

            tx.Send("last one"u8);
            tx.Dispose();
            Assert.Equal("last one"u8.ToArray(), rx.ReceiveBytes());
            rx.AssertClosed();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_PendingWhenSenderDisposed_CompletesClosed()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = rx.ReceiveAsync(buffer, CancellationToken.None);
            Assert.False(pending.IsCompleted);
            tx.Dispose();
            (ReceiveStatus status, _) = await pending.WithTimeout();
            Assert.Equal(ReceiveStatus.Closed, status);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_PendingWhenReceiverDisposed_FailsWithObjectDisposed()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        {
            ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = rx.ReceiveAsync(new ArrayBufferWriter<byte>(), CancellationToken.None);
            rx.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending.WithTimeout());
            Assert.Throws<IpcDisconnectedException>(() => tx.Send("x"u8));
        }
    }

    [Fact]
    public void DisposedEnds_ThrowObjectDisposed()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        tx.Dispose();
        rx.Dispose();
        tx.Dispose();
        rx.Dispose();
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Throws<ObjectDisposedException>(() => tx.Send("x"u8));
        Assert.Throws<ObjectDisposedException>(() => tx.Clone());
        Assert.Throws<ObjectDisposedException>(() => rx.TryReceive(buffer, out _));
        Assert.Throws<ObjectDisposedException>(() => rx.Receive(TimeSpan.Zero, buffer, out _));
    }

    /// <summary>Fills the channel with SendAsync until one send has to wait; returns it and the number that completed.</summary>
    private static (ValueTask Pending, int Completed) FillUntilSendAsyncWaits(TransportSender tx, CancellationToken cancellationToken)
    {
        for (int completed = 0; completed < 100_000; completed++)
        {
            ValueTask send = tx.SendAsync(BitConverter.GetBytes(completed), default, default, cancellationToken);
            if (!send.IsCompleted)
            {
                return (send, completed);
            }

            send.GetAwaiter().GetResult();
        }

        throw new InvalidOperationException("the channel never filled up");
    }

    [Fact(Timeout = 30_000)]
    public async Task SendAsync_WaitingOnFullChannel_ReceiverClosed_FailsDisconnectedInsteadOfHanging()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        {
            (ValueTask pending, int completed) = FillUntilSendAsyncWaits(tx, CancellationToken.None);
            Assert.True(completed > 10);
            rx.Dispose();
            await Assert.ThrowsAsync<IpcDisconnectedException>(async () => await pending.WithTimeout());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Send_BlockedOnFullChannel_ReceiverClosed_FailsDisconnectedInsteadOfHanging()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        {
            (ValueTask pending, _) = FillUntilSendAsyncWaits(tx, CancellationToken.None);
            var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task blocked = Task.Factory.StartNew(
                () =>
                {
                    blocking.SetResult();
                    tx.Send("blocked"u8);
                },
                TaskCreationOptions.LongRunning);
            await blocking.Task.WithTimeout();
            rx.Dispose();
            await Assert.ThrowsAsync<IpcDisconnectedException>(() => blocked.WithTimeout());
            await Assert.ThrowsAsync<IpcDisconnectedException>(async () => await pending.WithTimeout());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SendAsync_WaitingOnFullChannel_CompletesWhenReaderDrains()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            (ValueTask pending, int completed) = FillUntilSendAsyncWaits(tx, CancellationToken.None);
            for (int i = 0; i < completed; i++)
            {
                Assert.Equal(i, BitConverter.ToInt32(rx.ReceiveBytes()));
            }

            await pending.WithTimeout();
            Assert.Equal(completed, BitConverter.ToInt32(rx.ReceiveBytes()));
            rx.AssertEmpty();
        }
    }

    /// <summary>
    /// In a child that restores SIGPIPE's default action (the runtime ignores it, which would hide the bug), sends
    /// to closed channels inline, with unread data, with a memfd body, with a side channel and asynchronously:
    /// each must throw <see cref="IpcDisconnectedException"/>; a send without MSG_NOSIGNAL would kill the child.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task Send_AfterReceiverClosed_NeverRaisesSigpipe()
    {
        using TestChildProcess child = TestChildProcess.Start("transport-nosigpipe");
        await child.AssertSuccessAsync();
        string output = await child.OutputAsync().WithTimeout();
        Assert.Contains("side channel:", output, StringComparison.Ordinal);
        Assert.Contains("SendAsync:", output, StringComparison.Ordinal);
    }
}
