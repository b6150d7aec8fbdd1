using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Versioning;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Transport.MacOS.Tests.Support;
using Xunit;

namespace IpcChannel.Transport.MacOS.Tests;

/// <summary>
/// The platform tests of servo/ipc-channel (src/platform/test.rs), with byte payloads, against real Mach ports.
/// They need the Mach kernel, so elsewhere they are reported as skipped.
/// </summary>
[SupportedOSPlatform("macos")]
public class MacTransportTests
{
    private static IpcTransport T => MacTransport.Instance;

    private static byte[] Pattern(int length, int seed = 0)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)((i + seed) % 251);
        }

        return data;
    }

    private static (ReceiveStatus Status, byte[] Data, ReceivedHandles? Handles) Receive(TransportReceiver rx, TimeSpan? timeout = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ReceiveStatus status = rx.Receive(timeout ?? TimeSpan.FromSeconds(30), buffer, out ReceivedHandles? handles);
        return (status, buffer.WrittenSpan.ToArray(), handles);
    }

    private static byte[] ReceiveData(TransportReceiver rx)
    {
        (ReceiveStatus status, byte[] data, ReceivedHandles? handles) = Receive(rx);
        Assert.Equal(ReceiveStatus.Message, status);
        handles?.Dispose();
        return data;
    }

    [MacOSFact]
    public void Simple_SevenBytes_RoundTrip()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send("1234567"u8, default, default);
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Message, rx.TryReceive(buffer, out ReceivedHandles? handles));
            Assert.Null(handles);
            Assert.Equal("1234567", Encoding.ASCII.GetString(buffer.WrittenSpan));
        }
    }

    [MacOSFact]
    public void Empty_ZeroBytes_IsAMessageNotAClose()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send(default, default, default);
            (ReceiveStatus status, byte[] data, _) = Receive(rx);
            Assert.Equal(ReceiveStatus.Message, status);
            Assert.Empty(data);
        }
    }

    [MacOSFact]
    public void SenderTransfer_TransferredSenderDelivers()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subRx)
        {
            tx.Send("foo"u8, [subTx], default);
            subTx.Dispose();
            (ReceiveStatus status, byte[] data, ReceivedHandles? handles) = Receive(rx);
            Assert.Equal(ReceiveStatus.Message, status);
            Assert.Equal("foo"u8.ToArray(), data);
            using (handles)
            using (TransportSender received = handles!.TakeChannel(0).ToSender())
            {
                received.Send("bar"u8, default, default);
            }

            Assert.Equal("bar"u8.ToArray(), ReceiveData(subRx));
            Assert.Equal(ReceiveStatus.Closed, Receive(subRx).Status);
        }
    }

    [MacOSFact]
    public void ReceiverTransfer_MovedReceiverGetsTheChannelsMessages()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subTx)
        {
            subTx.Send("queued"u8, default, default);
            tx.Send("foo"u8, [subRx], default);
            Assert.True(subRx.IsDisposed);
            subRx.Dispose();
            (_, _, ReceivedHandles? handles) = Receive(rx);
            using (handles)
            using (TransportReceiver moved = handles!.TakeChannel(0).ToReceiver())
            {
                subTx.Send("after"u8, default, default);
                Assert.Equal("queued"u8.ToArray(), ReceiveData(moved));
                Assert.Equal("after"u8.ToArray(), ReceiveData(moved));
            }
        }
    }

    [MacOSFact]
    public void MultisenderTransfer_BothArriveInOrderAndWork()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender a, TransportReceiver aRx) = T.CreateChannel();
        (TransportSender b, TransportReceiver bRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (a)
        using (b)
        using (aRx)
        using (bRx)
        {
            tx.Send("two"u8, [a, b], default);
            (_, _, ReceivedHandles? handles) = Receive(rx);
            using (handles)
            {
                Assert.Equal(2, handles!.ChannelCount);
                using TransportSender first = handles.TakeChannel(0).ToSender();
                using TransportSender second = handles.TakeChannel(1).ToSender();
                first.Send("a"u8, default, default);
                second.Send("b"u8, default, default);
            }

            Assert.Equal("a"u8.ToArray(), ReceiveData(aRx));
            Assert.Equal("b"u8.ToArray(), ReceiveData(bRx));
        }
    }

    [MacOSFact]
    public void SenderAsReceiver_IsRefusedAndReleased()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (subRx)
        {
            tx.Send("x"u8, [subTx], default);
            subTx.Dispose();
            (_, _, ReceivedHandles? handles) = Receive(rx);
            using (handles)
            {
                Assert.Throws<IpcSerializationException>(() => handles!.TakeChannel(0).ToReceiver());
            }

            Assert.Equal(ReceiveStatus.Closed, Receive(subRx).Status);
        }
    }

    [MacOSFact]
    public void Sizes_AroundTheInlineLimitAndLarge_ArriveWhole()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            foreach (int size in new[] { 1, MachWire.MaxInlinePayload - 1, MachWire.MaxInlinePayload, MachWire.MaxInlinePayload + 1, 65536, 1 << 20 })
            {
                byte[] data = Pattern(size, size);
                tx.Send(data, default, default);
                Assert.Equal(data, ReceiveData(rx));
            }
        }
    }

    [MacOSFact]
    public async Task HugeData_FromAnotherThread_ArriveInOrder()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            int[] sizes = [50 << 20, 46 << 20, 49 << 20];
            Task sending = Task.Run(() =>
            {
                foreach (int size in sizes)
                {
                    tx.Send(Pattern(size, size), default, default);
                }
            });
            foreach (int size in sizes)
            {
                Assert.Equal(Pattern(size, size), ReceiveData(rx));
            }

            await sending.WithTimeout();
        }
    }

    [MacOSFact]
    public void BigDataWithSenders_EveryTransferredSenderWorks()
    {
        for (int count = 0; count <= 6; count++)
        {
            (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
            var channels = Enumerable.Range(0, count).Select(_ => T.CreateChannel()).ToList();
            try
            {
                tx.Send(Pattern(1 << 20), channels.Select(c => (TransportChannelEnd)c.Sender).ToArray(), default);
                (_, byte[] data, ReceivedHandles? handles) = Receive(rx);
                Assert.Equal(Pattern(1 << 20), data);
                using (handles)
                {
                    Assert.Equal(count, handles?.ChannelCount ?? 0);
                    for (int i = 0; i < count; i++)
                    {
                        using TransportSender sender = handles!.TakeChannel(i).ToSender();
                        sender.Send(Pattern(65536, i), default, default);
                        Assert.Equal(Pattern(65536, i), ReceiveData(channels[i].Receiver));
                    }
                }
            }
            finally
            {
                tx.Dispose();
                rx.Dispose();
                foreach ((TransportSender s, TransportReceiver r) in channels)
                {
                    s.Dispose();
                    r.Dispose();
                }
            }
        }
    }

    [MacOSFact]
    public async Task ConcurrentSenders_EachMessageArrivesWhole()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            TransportSender[] clones = [tx, tx.Clone(), tx.Clone()];
            Task[] sends = clones.Select((s, i) => Task.Run(() => s.Send(Pattern(1 << 20, i), default, default))).ToArray();
            var seen = new HashSet<int>();
            for (int i = 0; i < clones.Length; i++)
            {
                byte[] data = ReceiveData(rx);
                int seed = Enumerable.Range(0, 3).Single(s => data.AsSpan().SequenceEqual(Pattern(1 << 20, s)));
                Assert.True(seen.Add(seed));
            }

            await Task.WhenAll(sends).WithTimeout();
            foreach (TransportSender clone in clones)
            {
                clone.Dispose();
            }

            Assert.Equal(ReceiveStatus.Closed, Receive(rx).Status);
        }
    }

    [MacOSFact]
    public void TryReceive_EmptyMessageEmpty()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Empty, rx.TryReceive(buffer, out _));
            tx.Send("1234567"u8, default, default);
            Assert.Equal(ReceiveStatus.Message, rx.TryReceive(buffer, out _));
            Assert.Equal(ReceiveStatus.Empty, rx.TryReceive(buffer, out _));
        }
    }

    [MacOSFact]
    public void ReceiveTimeout_EmptyWaitsThenReturnsEmpty()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            long start = Environment.TickCount64;
            Assert.Equal(ReceiveStatus.Empty, Receive(rx, TimeSpan.FromMilliseconds(200)).Status);
            Assert.True(Environment.TickCount64 - start >= 150);
            tx.Send("x"u8, default, default);
            Assert.Equal(ReceiveStatus.Message, Receive(rx, TimeSpan.FromSeconds(1)).Status);
        }
    }

    [MacOSFact]
    public void NoSendersNotification_AfterQueuedMessages_IsClosedAndSticky()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            TransportSender clone = tx.Clone();
            tx.Send("first"u8, default, default);
            tx.Dispose();
            Assert.Equal("first"u8.ToArray(), ReceiveData(rx));
            Assert.Equal(ReceiveStatus.Empty, rx.TryReceive(buffer, out _));
            clone.Send("second"u8, default, default);
            clone.Dispose();
            Assert.Equal("second"u8.ToArray(), ReceiveData(rx));
            Assert.Equal(ReceiveStatus.Closed, Receive(rx).Status);
            Assert.Equal(ReceiveStatus.Closed, rx.TryReceive(buffer, out _));
        }
    }

    [MacOSFact]
    public async Task NoSendersNotification_SenderDroppedByAnotherThread_WakesAnAsyncReceive()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            ValueTask<(ReceiveStatus, ReceivedHandles?)> pending = rx.ReceiveAsync(new ArrayBufferWriter<byte>(), default);
            await Task.Run(tx.Dispose).WithTimeout();
            (ReceiveStatus status, _) = await pending.WithTimeout();
            Assert.Equal(ReceiveStatus.Closed, status);
        }
    }

    [MacOSFact]
    public void NoReceiver_SendThrowsDisconnected()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        {
            tx.Send("pending"u8, default, default);
            rx.Dispose();
            Assert.Throws<IpcDisconnectedException>(() => tx.Send("x"u8, default, default));
            using TransportSender clone = tx.Clone();
            Assert.Throws<IpcDisconnectedException>(() => clone.Send("x"u8, default, default));
        }
    }

    [MacOSFact]
    public void TransferClosedSender_ArrivesAndReportsDisconnected()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender deadTx, TransportReceiver deadRx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (deadTx)
        {
            deadRx.Dispose();
            tx.Send("x"u8, [deadTx], default);
            (_, _, ReceivedHandles? handles) = Receive(rx);
            using (handles)
            using (TransportSender received = handles!.TakeChannel(0).ToSender())
            {
                Assert.Throws<IpcDisconnectedException>(() => received.Send("y"u8, default, default));
            }
        }
    }

    [MacOSFact]
    public async Task ReceiveAsync_CompletesWhenAMessageArrives()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            ValueTask<(ReceiveStatus, ReceivedHandles?)> pending = rx.ReceiveAsync(buffer, default);
            Assert.False(pending.IsCompleted);
            tx.Send("5"u8, default, default);
            (ReceiveStatus status, _) = await pending.WithTimeout();
            Assert.Equal(ReceiveStatus.Message, status);
            Assert.Equal("5"u8.ToArray(), buffer.WrittenSpan.ToArray());
        }
    }

    [MacOSFact]
    public async Task ReceiveAsync_Cancelled_ConsumesNothing()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            using var cts = new CancellationTokenSource();
            ValueTask<(ReceiveStatus, ReceivedHandles?)> pending = rx.ReceiveAsync(new ArrayBufferWriter<byte>(), cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask()).WithTimeout();
            tx.Send("kept"u8, default, default);
            Assert.Equal("kept"u8.ToArray(), ReceiveData(rx));
        }
    }

    [MacOSFact]
    public async Task SendAsync_DeliversLikeSend()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            await tx.SendAsync(Pattern(100_000), default, default, default).WithTimeout();
            Assert.Equal(Pattern(100_000), ReceiveData(rx));
        }
    }

    [MacOSFact]
    public void ReceiverSet_ReportsMessagesWithSequentialIds()
    {
        using TransportReceiverSet set = T.CreateReceiverSet();
        (TransportSender tx0, TransportReceiver rx0) = T.CreateChannel();
        (TransportSender tx1, TransportReceiver rx1) = T.CreateChannel();
        using (tx0)
        using (tx1)
        {
            Assert.Equal(0ul, set.Add(rx0));
            Assert.Equal(1ul, set.Add(rx1));
            tx0.Send("0"u8, default, default);
            var results = new List<TransportSelection>();
            Assert.True(set.Select(TimeSpan.FromSeconds(30), results));
            Assert.Equal(0ul, Assert.Single(results).Id);

            results.Clear();
            tx0.Send("a"u8, default, default);
            tx1.Send("b"u8, default, default);
            while (results.Count < 2)
            {
                Assert.True(set.Select(TimeSpan.FromSeconds(30), results));
            }

            Assert.Equal([0ul, 1ul], results.Select(r => r.Id).Order());
            Assert.False(set.Select(TimeSpan.Zero, results = []));
        }
    }

    [MacOSFact]
    public void ReceiverSet_CloseBeforeAndAfterAdding_ReportsClosedThenForgets()
    {
        using TransportReceiverSet set = T.CreateReceiverSet();
        (TransportSender tx0, TransportReceiver rx0) = T.CreateChannel();
        (TransportSender tx1, TransportReceiver rx1) = T.CreateChannel();
        tx0.Dispose();
        ulong before = set.Add(rx0);
        ulong after = set.Add(rx1);
        tx1.Send(default, default, default);
        tx1.Dispose();

        var results = new List<TransportSelection>();
        while (results.Count(r => r.Closed) < 2)
        {
            Assert.True(set.Select(TimeSpan.FromSeconds(30), results));
        }

        Assert.Contains(results, r => r.Id == before && r.Closed);
        Assert.Contains(results, r => r.Id == after && !r.Closed && r.Payload.Length == 0);
        Assert.Contains(results, r => r.Id == after && r.Closed);
        Assert.Equal(0, set.Count);
        Assert.False(set.Select(TimeSpan.FromMilliseconds(10), []));
    }

    [MacOSFact]
    public void ReceiverSet_BusyChannel_DoesNotStarveAnother()
    {
        using TransportReceiverSet set = T.CreateReceiverSet();
        (TransportSender busy, TransportReceiver busyRx) = T.CreateChannel();
        (TransportSender quiet, TransportReceiver quietRx) = T.CreateChannel();
        using (busy)
        using (quiet)
        {
            ulong busyId = set.Add(busyRx);
            ulong quietId = set.Add(quietRx);
            for (int i = 0; i < 200; i++)
            {
                busy.Send("b"u8, default, default);
            }

            quiet.Send("q"u8, default, default);
            var results = new List<TransportSelection>();
            Assert.True(set.Select(TimeSpan.FromSeconds(30), results));
            Assert.Contains(results, r => r.Id == quietId);
            Assert.True(results.Count(r => r.Id == busyId) <= MacReceiverSet.MaxMessagesPerReceiverPerSelect);
        }
    }

    [MacOSFact]
    public async Task ReceiverSet_SelectAsync_WakesOnAMessage()
    {
        using TransportReceiverSet set = T.CreateReceiverSet();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        {
            ulong id = set.Add(rx);
            var results = new List<TransportSelection>();
            ValueTask pending = set.SelectAsync(results, default);
            tx.Send("z"u8, default, default);
            await pending.WithTimeout();
            Assert.Equal(id, Assert.Single(results).Id);
        }
    }

    [MacOSFact]
    public void OneShotServer_ConnectFirst_AcceptsWithCredentialsThenRefusesOthers()
    {
        TransportServer server = T.CreateServer(oneShot: true);
        using (server)
        {
            using TransportSender client = T.Connect(server.Name);
            client.Send("hello"u8, default, default);
            (TransportReceiver rx, PeerCredentials peer) = server.Accept(TimeSpan.FromSeconds(30))!.Value;
            using (rx)
            {
                Assert.Equal(Environment.ProcessId, peer.Pid);
                Assert.Equal("hello"u8.ToArray(), ReceiveData(rx));
                Assert.Throws<InvalidOperationException>(() => server.Accept(TimeSpan.Zero));
                Assert.ThrowsAny<IpcException>(() => T.Connect(server.Name));
                client.Dispose();
                Assert.Equal(ReceiveStatus.Closed, Receive(rx).Status);
            }
        }
    }

    [MacOSFact]
    public async Task OneShotServer_AcceptFirst_CompletesWhenTheClientConnects()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        ValueTask<(TransportReceiver, PeerCredentials)> accepting = server.AcceptAsync(default);
        using TransportSender client = T.Connect(server.Name);
        client.Send("1234567"u8, default, default);
        (TransportReceiver rx, _) = await accepting.WithTimeout();
        using (rx)
        {
            Assert.Equal("1234567"u8.ToArray(), ReceiveData(rx));
        }
    }

    [MacOSFact]
    public void MultiClientServer_EachClientHasItsOwnReceiverAndTheFilterRefusesBeforeReading()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        int calls = 0;
        server.Filter = peer => Interlocked.Increment(ref calls) != 1;
        using TransportSender refused = T.Connect(server.Name);
        using TransportSender a = T.Connect(server.Name);
        using TransportSender b = T.Connect(server.Name);
        a.Send("a"u8, default, default);
        b.Send("b"u8, default, default);

        (TransportReceiver rxA, _) = server.Accept(TimeSpan.FromSeconds(30))!.Value;
        (TransportReceiver rxB, _) = server.Accept(TimeSpan.FromSeconds(30))!.Value;
        using (rxA)
        using (rxB)
        {
            Assert.Equal("a"u8.ToArray(), ReceiveData(rxA));
            Assert.Equal("b"u8.ToArray(), ReceiveData(rxB));
            Assert.Throws<IpcDisconnectedException>(() => refused.Send("x"u8, default, default));
            Assert.Null(server.Accept(TimeSpan.FromMilliseconds(20)));
        }
    }

    [MacOSFact]
    public void Connect_UnknownName_Throws()
    {
        Assert.ThrowsAny<IpcException>(() => T.Connect(MacServer.NamePrefix + "no-such-server"));
    }

    [MacOSFact]
    public void SharedMemory_RoundTripsMappedReadOnly()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        using (TransportSharedMemory region = T.CreateSharedMemory(0xBA, 1 << 20))
        using (TransportSharedMemory small = T.CreateSharedMemory("abc"u8))
        using (TransportSharedMemory empty = T.CreateSharedMemory(default))
        {
            tx.Send("1234567"u8, default, [region, empty, small]);
            (_, byte[] data, ReceivedHandles? handles) = Receive(rx);
            Assert.Equal("1234567"u8.ToArray(), data);
            using (handles)
            {
                Assert.Equal(3, handles!.RegionCount);
                using TransportSharedMemory received = handles.TakeRegion(0);
                using TransportSharedMemory receivedEmpty = handles.TakeRegion(1);
                using TransportSharedMemory receivedSmall = handles.TakeRegion(2);
                Assert.Equal(1 << 20, received.Length);
                Assert.True(received.Span.IndexOfAnyExcept((byte)0xBA) < 0);
                Assert.Equal(0, receivedEmpty.Length);
                Assert.Equal("abc"u8.ToArray(), receivedSmall.Span.ToArray());
                using TransportSharedMemory clone = received.Clone();
                Assert.True(clone.Span.SequenceEqual(received.Span));
            }

            Assert.True(region.Span.IndexOfAnyExcept((byte)0xBA) < 0);
        }
    }
}
