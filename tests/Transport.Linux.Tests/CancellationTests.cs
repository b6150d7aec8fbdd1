using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Cancelling asynchronous receive, accept, select and send: a cancelled operation has consumed (or sent)
/// nothing, so no message and no client is ever lost, even when cancellation races the data.
/// </summary>
public class CancellationTests
{
    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_CancelledWhileWaiting_ThrowsAndLaterMessageIsNotLost()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            using var cts = new CancellationTokenSource();
            var buffer = new ArrayBufferWriter<byte>();
            ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = rx.ReceiveAsync(buffer, cts.Token);
            Assert.False(pending.IsCompleted);
            cts.Cancel();
            OperationCanceledException error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.WithTimeout());
            Assert.Equal(cts.Token, error.CancellationToken);

            tx.Send("after"u8);
            (ReceiveStatus status, _) = await rx.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
            Assert.Equal(ReceiveStatus.Message, status);
            Assert.Equal("after"u8.ToArray(), buffer.WrittenSpan.ToArray());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_AlreadyCancelledToken_ConsumesNothing()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send("queued"u8);
            var buffer = new ArrayBufferWriter<byte>();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await rx.ReceiveAsync(buffer, new CancellationToken(canceled: true)));
            Assert.Equal(0, buffer.WrittenCount);
            Assert.Equal("queued"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ReceiveAsync_CancellationRacingSends_NoMessageLostOrDuplicated()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            const int Count = 300;
            var received = new List<int>();
            var buffer = new ArrayBufferWriter<byte>();
            int cancelled = 0;
            for (int i = 0; i < Count; i++)
            {
                using var cts = new CancellationTokenSource();
                buffer.ResetWrittenCount();
                ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = rx.ReceiveAsync(buffer, cts.Token);
                int seq = i;
                Task send = Task.Run(() => tx.Send(BitConverter.GetBytes(seq)));
                Task cancel = Task.Run(cts.Cancel);
                try
                {
                    (ReceiveStatus status, _) = await pending.WithTimeout();
                    Assert.Equal(ReceiveStatus.Message, status);
                    received.Add(BitConverter.ToInt32(buffer.WrittenSpan));
                }
                catch (OperationCanceledException)
                {
                    Assert.Equal(0, buffer.WrittenCount);
                    cancelled++;
                }

                await Task.WhenAll(send, cancel).WithTimeout();
            }

            while (true)
            {
                buffer.ResetWrittenCount();
                if (rx.TryReceive(buffer, out _) != ReceiveStatus.Message)
                {
                    break;
                }

                received.Add(BitConverter.ToInt32(buffer.WrittenSpan));
            }

            Assert.Equal(Enumerable.Range(0, Count), received);
            Assert.InRange(cancelled, 0, Count);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task AcceptAsync_Cancelled_ThenClientIsAccepted()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using var cts = new CancellationTokenSource();
        ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> pending = server.AcceptAsync(cts.Token);
        Assert.False(pending.IsCompleted);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.WithTimeout());

        using TransportSender tx = T.Connect(server.Name);
        tx.Send("hello"u8);
        (TransportReceiver rx, _) = await server.AcceptAsync(CancellationToken.None).WithTimeout();
        using (rx)
        {
            Assert.Equal("hello"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task AcceptAsync_CancellationRacingConnects_NoClientLost()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        const int Clients = 40;
        var senders = new List<TransportSender>();
        var seen = new List<int>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                using var cts = new CancellationTokenSource();
                ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> pending = server.AcceptAsync(cts.Token);
                int id = i;
                Task<TransportSender> connect = Task.Run(() =>
                {
                    TransportSender tx = T.Connect(server.Name);
                    tx.Send(BitConverter.GetBytes(id));
                    return tx;
                });
                Task cancel = Task.Run(cts.Cancel);
                try
                {
                    (TransportReceiver rx, _) = await pending.WithTimeout();
                    using (rx)
                    {
                        seen.Add(BitConverter.ToInt32(rx.ReceiveBytes()));
                    }
                }
                catch (OperationCanceledException)
                {
                    // The client stays queued; the next accept takes it.
                }

                senders.Add(await connect.WithTimeout());
                await cancel.WithTimeout();
            }

            while (seen.Count < Clients)
            {
                (TransportReceiver rx, _) = await server.AcceptAsync(CancellationToken.None).WithTimeout();
                using (rx)
                {
                    seen.Add(BitConverter.ToInt32(rx.ReceiveBytes()));
                }
            }

            Assert.Equal(Enumerable.Range(0, Clients), seen.Order());
            Assert.Null(server.Accept(TimeSpan.Zero));
        }
        finally
        {
            senders.ForEach(s => s.Dispose());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SelectAsync_Cancelled_ThenMessageIsReported()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx)
        {
            ulong id = set.Add(rx);
            using var cts = new CancellationTokenSource();
            var results = new List<TransportSelection>();
            ValueTask pending = set.SelectAsync(results, cts.Token);
            Assert.False(pending.IsCompleted);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.WithTimeout());
            Assert.Empty(results);

            tx.Send("after"u8);
            await set.SelectAsync(results, CancellationToken.None).WithTimeout();
            TransportSelection only = Assert.Single(results);
            Assert.Equal(id, only.Id);
            Assert.Equal("after"u8.ToArray(), only.Payload);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task SelectAsync_CancellationRacingSends_NoMessageLostOrDuplicated()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using TransportReceiverSet set = T.CreateReceiverSet();
        using (tx)
        {
            set.Add(rx);
            const int Count = 200;
            var results = new List<TransportSelection>();
            for (int i = 0; i < Count; i++)
            {
                using var cts = new CancellationTokenSource();
                ValueTask pending = set.SelectAsync(results, cts.Token);
                int seq = i;
                Task send = Task.Run(() => tx.Send(BitConverter.GetBytes(seq)));
                Task cancel = Task.Run(cts.Cancel);
                try
                {
                    await pending.WithTimeout();
                }
                catch (OperationCanceledException)
                {
                    // Nothing was consumed; a later select reports it.
                }

                await Task.WhenAll(send, cancel).WithTimeout();
            }

            while (set.Select(TimeSpan.Zero, results))
            {
            }

            Assert.Equal(Enumerable.Range(0, Count), results.Select(r => BitConverter.ToInt32(r.Payload)));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SendAsync_CancelledWhileWaitingOnFullChannel_SendsNothing()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            using var cts = new CancellationTokenSource();
            int completed = 0;
            ValueTask pending;
            while (true)
            {
                pending = tx.SendAsync(BitConverter.GetBytes(completed), default, default, cts.Token);
                if (!pending.IsCompleted)
                {
                    break;
                }

                await pending;
                completed++;
            }

            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.WithTimeout());
            for (int i = 0; i < completed; i++)
            {
                Assert.Equal(i, BitConverter.ToInt32(rx.ReceiveBytes()));
            }

            rx.AssertEmpty();
            await tx.SendAsync("next"u8.ToArray(), default, default, CancellationToken.None).WithTimeout();
            Assert.Equal("next"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SendAsync_AlreadyCancelledToken_SendsNothing()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
                await tx.SendAsync("no"u8.ToArray(), default, default, new CancellationToken(canceled: true)));
            rx.AssertEmpty();
        }
    }
}
