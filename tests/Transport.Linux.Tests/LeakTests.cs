using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.TestChild;
using Payload = IpcChannel.Tests.Support.Payload;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Descriptor hygiene: /proc/self/fd before and after every kind of use (including failures, cancellation and a
/// peer killed mid-stream), close-on-exec on everything, and a child spawned meanwhile inherits nothing.
/// </summary>
[Collection(SerialCollection.Name)]
public class LeakTests
{
    [Fact]
    public void Messages_OfEveryKind_ClaimedOrNot_LeaveNoDescriptor()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        for (int round = 0; round < 20; round++)
        {
            (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
            (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
            using TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(5000));
            using (tx)
            using (rx)
            using (subTx)
            using (subRx)
            using (TransportSender clone = tx.Clone())
            {
                var many = new TransportChannelEnd[300];
                Array.Fill(many, subTx);
                tx.Send(Payload.Pattern(10));
                clone.Send(Payload.Pattern(300_000), [subTx], [region]);
                tx.Send(Payload.Pattern(10), many, [region, region]);
                tx.Send(Payload.Pattern(200_000), many, default);

                rx.ReceiveBytes();
                for (int i = 0; i < 3; i++)
                {
                    (_, ReceivedHandles? handles) = rx.ReceiveMessage();
                    using (handles)
                    {
                        if (round % 2 == 0 && handles!.RegionCount > 0)
                        {
                            using TransportSharedMemory taken = handles.TakeRegion(0);
                            Assert.Equal(5000, taken.Length);
                        }

                        if (round % 3 == 0)
                        {
                            using TransportSender taken = handles!.TakeChannel(0).ToSender();
                        }
                    }
                }
            }
        }

        leaks.AssertNoLeak();
    }

    [Fact]
    public void ReceivedHandles_UnclaimedOnes_AreClosedByDispose()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(100));
        TransportSender claimedSender;
        TransportSharedMemory claimedRegion;
        using (region)
        using (tx)
        using (rx)
        using (subRx)
        {
            tx.Send("x"u8, [subTx, subTx, subTx, subTx, subTx], [region, region, region]);
            subTx.Dispose();
            (_, ReceivedHandles? handles) = rx.ReceiveMessage();
            int withHandles = FdCounter.Count();
            claimedSender = handles!.TakeChannel(2).ToSender();
            claimedRegion = handles.TakeRegion(1);
            handles.Dispose();
            Assert.Equal(withHandles - 6, FdCounter.Count()); // 4 channels + 2 regions closed, 2 kept
            Assert.Throws<ObjectDisposedException>(() => handles.TakeChannel(0));

            subRx.AssertEmpty(); // the claimed sender keeps the channel open
            claimedSender.Dispose();
            subRx.AssertClosed();
            Payload.AssertPattern(claimedRegion.Span, 100);
            claimedRegion.Dispose();
        }

        leaks.AssertNoLeak();
    }

    [Fact(Timeout = 60_000)]
    public async Task FailedAndCancelledOperations_LeaveNoDescriptor()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender other, TransportReceiver otherRx) = T.CreateChannel();
        using (other)
        using (otherRx)
        using (TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(10)))
        {
            var many = new TransportChannelEnd[300];
            Array.Fill(many, other);

            // Sends to a closed channel, every path.
            (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
            rx.Dispose();
            using (tx)
            {
                Assert.Throws<IpcDisconnectedException>(() => tx.Send("x"u8, [other], [region]));
                Assert.Throws<IpcDisconnectedException>(() => tx.Send(new byte[300_000], [other], [region]));
                Assert.Throws<IpcDisconnectedException>(() => tx.Send("x"u8, many, default));
                Assert.Throws<IpcDisconnectedException>(() => tx.Send(new byte[300_000], many, [region]));
                await Assert.ThrowsAsync<IpcDisconnectedException>(async () => await tx.SendAsync(new byte[300_000], many, default, CancellationToken.None));
            }

            // Refused before anything was sent.
            (tx, rx) = T.CreateChannel();
            using (tx)
            using (rx)
            {
                var tooMany = new TransportChannelEnd[Frames.MaxFdsPerMessage];
                Array.Fill(tooMany, other);
                Assert.Throws<IpcException>(() => tx.Send("x"u8, tooMany, default));

                // Cancelled asynchronous receive, and a send cancelled while the channel is full.
                using (var cts = new CancellationTokenSource())
                {
                    ValueTask<(ReceiveStatus, ReceivedHandles?)> receiving = rx.ReceiveAsync(new ArrayBufferWriter<byte>(), cts.Token);
                    cts.Cancel();
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receiving.WithTimeout());
                }

                using (var cts = new CancellationTokenSource())
                {
                    ValueTask sending;
                    while ((sending = tx.SendAsync(new byte[200_000], many.AsMemory(0, 2), default, cts.Token)).IsCompleted)
                    {
                        await sending;
                    }

                    cts.Cancel();
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await sending.WithTimeout());
                }

                // Drain what was queued (memfd bodies and descriptors in flight) and close the rest with the socket.
                rx.ReceiveMessage().Handles?.Dispose();
            }

            // A receiver disposed while an asynchronous receive waits.
            (tx, rx) = T.CreateChannel();
            using (tx)
            {
                ValueTask<(ReceiveStatus, ReceivedHandles?)> orphaned = rx.ReceiveAsync(new ArrayBufferWriter<byte>(), CancellationToken.None);
                rx.Dispose();
                await Assert.ThrowsAsync<ObjectDisposedException>(async () => await orphaned.WithTimeout());
            }
        }

        leaks.AssertNoLeak();
    }

    [Fact(Timeout = 60_000)]
    public async Task ReceiverSets_AddCloseRemoveSelectDispose_LeaveNoDescriptor()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        for (int round = 0; round < 5; round++)
        {
            using TransportReceiverSet set = T.CreateReceiverSet();
            var senders = new List<TransportSender>();
            var ids = new List<ulong>();
            for (int i = 0; i < 10; i++)
            {
                (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
                senders.Add(tx);
                ids.Add(set.Add(rx));
            }

            senders[0].Dispose(); // reported closed, closed by the set
            senders[1].Send("with handle"u8, [senders[2]], default);
            using (TransportReceiver? removed = set.Remove(ids[3]))
            {
                Assert.NotNull(removed);
            }

            var results = new List<TransportSelection>();
            while (results.Count < 2)
            {
                Assert.True(set.Select(ReceiveBound, results));
            }

            results.ForEach(r => r.Handles?.Dispose());

            using (var cts = new CancellationTokenSource())
            {
                ValueTask selecting = set.SelectAsync([], cts.Token);
                cts.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await selecting.WithTimeout());
            }

            senders[4].Send("queued at dispose"u8, [senders[5]], default);
            senders.ForEach(s => s.Dispose());
        }

        leaks.AssertNoLeak();
    }

    [Fact(Timeout = 60_000)]
    public async Task Servers_AcceptRefuseCancelDispose_LeaveNoDescriptor()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        for (int round = 0; round < 5; round++)
        {
            using (TransportServer oneShot = T.CreateServer(oneShot: true))
            using (TransportSender client = T.Connect(oneShot.Name))
            using (TransportSender extra = T.Connect(oneShot.Name))
            using (TransportSender hungUp = T.Connect(oneShot.Name))
            {
                Assert.Null(oneShot.Accept(TimeSpan.Zero)); // all three now pending, none readable yet
                hungUp.Dispose();
                client.Send("first"u8);

                // Either readable client may be the one returned; the one-shot server closes the other two.
                (TransportReceiver rx, _) = oneShot.Accept(ReceiveBound)!.Value;
                rx.Dispose();
                Assert.Throws<IpcDisconnectedException>(() => extra.Send("closed by the one-shot server"u8));
            }

            using (TransportServer multi = T.CreateServer(oneShot: false))
            {
                bool refuse = true;
                multi.Filter = _ => !refuse;
                using TransportSender refused = T.Connect(multi.Name);
                Assert.Null(multi.Accept(TimeSpan.Zero));
                refuse = false;

                using (var cts = new CancellationTokenSource())
                {
                    ValueTask<(TransportReceiver, PeerCredentials)> accepting = multi.AcceptAsync(cts.Token);
                    cts.Cancel();
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await accepting.WithTimeout());
                }

                using TransportSender silent = T.Connect(multi.Name);
                using TransportSender admitted = T.Connect(multi.Name);
                admitted.Send("hello"u8);
                (TransportReceiver rx, _) = await multi.AcceptAsync(CancellationToken.None).WithTimeout();
                rx.Dispose();
                using TransportSender neverAccepted = T.Connect(multi.Name);
                neverAccepted.Send("queued at dispose"u8);
            }

            Assert.Throws<IpcException>(() => T.Connect($"/tmp/ipc-no-such-server-{Guid.NewGuid():N}/s"));
        }

        leaks.AssertNoLeak();
    }

    [Fact]
    public void SharedMemory_CreateCloneSendDispose_LeavesNoDescriptorOrMapping()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        int mappingsBefore = ProcFs.IpcMemfdMappings();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            for (int i = 0; i < 20; i++)
            {
                using TransportSharedMemory region = T.CreateSharedMemory((byte)i, 100_000);
                using TransportSharedMemory fromBytes = T.CreateSharedMemory(Payload.Pattern(5000));
                using TransportSharedMemory empty = T.CreateSharedMemory(0, 0);
                using TransportSharedMemory clone = region.Clone();
                Assert.Equal(mappingsBefore + 3, ProcFs.IpcMemfdMappings()); // the empty region maps nothing
                tx.Send(default, default, [region, clone, fromBytes, empty]);
                (_, ReceivedHandles? handles) = rx.ReceiveMessage();
                using (handles)
                {
                    using TransportSharedMemory received = handles!.TakeRegion(1);
                    Assert.Equal(mappingsBefore + 6, ProcFs.IpcMemfdMappings()); // 3 more for the received non-empty regions
                }
            }
        }

        Assert.Equal(mappingsBefore, ProcFs.IpcMemfdMappings());
        leaks.AssertNoLeak();
    }

    [Fact(Timeout = 60_000)]
    public async Task EveryTransportDescriptor_IsCloseOnExec()
    {
        Dictionary<int, string> before = FdCounter.Snapshot();
        var disposables = new List<IDisposable>();
        try
        {
            await CreateOneOfEverythingAsync(disposables);
            // Only descriptors that still exist: listing /proc/self/fd itself briefly opens one.
            Dictionary<int, string> created = FdCounter.Snapshot()
                .Where(entry => !before.ContainsKey(entry.Key) && File.Exists($"/proc/self/fdinfo/{entry.Key}"))
                .ToDictionary();
            Assert.True(created.Count >= 12, $"only {created.Count} new descriptors");
            Assert.Contains(created.Values, t => t.StartsWith("socket:", StringComparison.Ordinal));
            Assert.Contains(created.Values, t => t.Contains("memfd:ipc-channel", StringComparison.Ordinal));
            Assert.Contains(created.Values, t => t.Contains("eventpoll", StringComparison.Ordinal));
            foreach ((int fd, string target) in created)
            {
                Assert.True((ProcFs.FdFlags(fd) & Posix.O_CLOEXEC) != 0, $"fd {fd} ({target}) is not close-on-exec");
            }
        }
        finally
        {
            disposables.Reverse();
            disposables.ForEach(d => d.Dispose());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ChildSpawnedDuringTest_SeesNoneOfOurDescriptors()
    {
        Dictionary<int, string> before = FdCounter.Snapshot();
        var disposables = new List<IDisposable>();
        try
        {
            await CreateOneOfEverythingAsync(disposables);
            HashSet<string> ours = FdCounter.Snapshot()
                .Where(entry => !before.ContainsKey(entry.Key))
                .Select(entry => entry.Value)
                .ToHashSet();
            Assert.Contains(ours, t => t.StartsWith("socket:", StringComparison.Ordinal));
            Assert.Contains(ours, t => t.Contains("memfd:ipc-channel", StringComparison.Ordinal));

            using TransportServer listing = T.CreateServer(oneShot: true);
            using TestChildProcess child = TestChildProcess.Start("transport-list-fds", [listing.Name]);
            (TransportReceiver rx, _) = await listing.AcceptAsync(CancellationToken.None).WithTimeout();
            string[] childFds;
            using (rx)
            {
                childFds = Encoding.UTF8.GetString(rx.ReceiveBytes()).Split('\n');
            }

            await child.AssertSuccessAsync();
            string[] childTargets = childFds.Select(line => line[(line.IndexOf(" -> ", StringComparison.Ordinal) + 4)..]).ToArray();
            Assert.DoesNotContain(childTargets, t => t.Contains("memfd:ipc-channel", StringComparison.Ordinal));
            Assert.DoesNotContain(childTargets, t => t.StartsWith("socket:", StringComparison.Ordinal) && ours.Contains(t));
        }
        finally
        {
            disposables.Reverse();
            disposables.ForEach(d => d.Dispose());
        }
    }

    /// <summary>Creates (and registers for disposal) every kind of object that owns a transport descriptor.</summary>
    private static async Task CreateOneOfEverythingAsync(List<IDisposable> disposables)
    {
        T Keep<T>(T disposable)
            where T : IDisposable
        {
            disposables.Add(disposable);
            return disposable;
        }

        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        Keep(tx);
        Keep(rx);
        Keep(tx.Clone());
        TransportSharedMemory region = Keep(T.CreateSharedMemory(Payload.Pattern(1000)));
        Keep(region.Clone());
        TransportServer server = Keep(T.CreateServer(oneShot: false));
        TransportSender connected = Keep(T.Connect(server.Name));
        Keep(T.Connect(server.Name)); // connected but silent: pending inside the server at dispose
        connected.Send("hello"u8);
        (TransportReceiver accepted, _) = server.Accept(ReceiveBound)!.Value;
        Keep(accepted);
        Assert.Equal("hello"u8.ToArray(), accepted.ReceiveBytes());

        // Received descriptors (MSG_CMSG_CLOEXEC), including through a side channel.
        (TransportSender subTx, TransportReceiver subRx) = T.CreateChannel();
        Keep(subTx);
        Keep(subRx);
        var many = new TransportChannelEnd[260];
        Array.Fill(many, subTx);
        connected.Send(new byte[200_000], many, [region]);
        ReceivedHandles handles = accepted.ReceiveMessage().Handles!;
        Keep(handles);
        Keep(handles.TakeChannel(0).ToSender());
        Keep(handles.TakeRegion(0));

        // A receiver set (its epoll), and the engine's registrations through pending async operations.
        TransportReceiverSet set = Keep(T.CreateReceiverSet());
        (TransportSender setTx, TransportReceiver setRx) = T.CreateChannel();
        Keep(setTx);
        set.Add(setRx);
        var cts = new CancellationTokenSource();
        Keep(cts);
        ValueTask<(ReceiveStatus, ReceivedHandles?)> receiving = rx.ReceiveAsync(new ArrayBufferWriter<byte>(), cts.Token);
        ValueTask selecting = set.SelectAsync([], cts.Token);
        ValueTask<(TransportReceiver, PeerCredentials)> acceptingAsync = server.AcceptAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receiving.WithTimeout());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await selecting.WithTimeout());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await acceptingAsync.WithTimeout());
    }

    /// <summary>
    /// A child streams messages of every kind (small, at the inline limit, memfd bodies, 300-descriptor side
    /// channels) as fast as it can and is killed with SIGKILL mid-stream: every message received is whole and in
    /// sequence, then the channel reports closed, and nothing the child had in flight leaks into this process.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task ChildKilledMidStream_NeverLeavesHalfAMessage()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        int received = 0;
        using (TransportServer server = T.CreateServer(oneShot: true))
        using (TestChildProcess child = TestChildProcess.Start("transport-stream-until-killed", [server.Name]))
        {
            (TransportReceiver rx, _) = await server.AcceptAsync(CancellationToken.None).WithTimeout();
            using (rx)
            {
                var buffer = new ArrayBufferWriter<byte>();
                bool Next()
                {
                    buffer.ResetWrittenCount();
                    ReceiveStatus status = rx.Receive(ReceiveBound, buffer, out ReceivedHandles? handles);
                    if (status == ReceiveStatus.Closed)
                    {
                        return false;
                    }

                    Assert.Equal(ReceiveStatus.Message, status);
                    ReadOnlySpan<byte> payload = buffer.WrittenSpan;
                    Assert.Equal(received, BinaryPrimitives.ReadInt32LittleEndian(payload));
                    (int size, int handleCount) = StreamMessages.Describe(received);
                    Assert.Equal(size, payload.Length);
                    Payload.AssertPattern(payload[4..], size - 4, seed: received + 4);
                    Assert.Equal(handleCount, handles?.ChannelCount ?? 0);
                    handles?.Dispose();
                    received++;
                    return true;
                }

                for (int i = 0; i < 41; i++)
                {
                    Assert.True(Next());
                }

                child.Kill();
                await child.WaitForExitAsync(TimeSpan.FromSeconds(20));
                while (Next())
                {
                }

                rx.AssertClosed();
            }
        }

        Assert.True(received >= 41);
        leaks.AssertNoLeak();
    }
}
