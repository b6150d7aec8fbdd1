using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using IpcChannel.Transport.Linux;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>
/// Every handle-owning object owns exactly one OS handle and gives it back: descriptor and mapping counts
/// return to their baseline, and nothing leaks into a child process (Semantics: "no handle, mapping or temp
/// file outlives its owner", "CLOEXEC everywhere").
/// </summary>
[Collection(FdSensitiveCollection.Name)]
public class LeakTests
{
    private const string MemfdMapping = "memfd:ipc-channel";

    public LeakTests()
    {
        // The process-wide readiness engine owns one epoll descriptor for the life of the process.
        _ = EpollEngine.Instance;
    }

    [Fact]
    public void Channels_OwnOneDescriptorPerEnd_AndDisposeReturnsToBaseline()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        Assert.Equal(2, Fds.OpenedSince(baseline).Count);
        IpcSender<int> clone = tx.Clone();
        Assert.Equal(3, Fds.OpenedSince(baseline).Count);
        OpaqueIpcSender opaque = clone.ToOpaque();
        OpaqueIpcReceiver opaqueRx = rx.ToOpaque();
        Assert.Equal(3, Fds.OpenedSince(baseline).Count);
        (IpcBytesSender btx, IpcBytesReceiver brx) = Ipc.BytesChannel();
        IpcBytesSender bclone = btx.Clone();
        Assert.Equal(6, Fds.OpenedSince(baseline).Count);

        tx.Dispose();
        opaque.Dispose();
        opaqueRx.Dispose();
        btx.Dispose();
        brx.Dispose();
        bclone.Dispose();
        Fds.AssertNoneOpenedSince(baseline, "channels");

        for (int i = 0; i < 500; i++)
        {
            (IpcSender<int> t, IpcReceiver<int> r) = Ipc.Channel<int>();
            t.Send(i);
            t.Dispose();
            r.Dispose();
        }

        Fds.AssertNoneOpenedSince(baseline, "500 channels");
    }

    [Fact]
    public void SharedMemory_OwnsOneDescriptorAndOneMapping_ReleasedOnDispose()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        int mappings = ProcMaps.Count(MemfdMapping);
        var memory = IpcSharedMemory.FromByte(1, 100_000);
        ulong address = ProcMaps.AddressOf(memory.Span);
        Assert.Equal(1, Fds.OpenedSince(baseline).Count);
        Assert.Equal(mappings + 1, ProcMaps.Count(MemfdMapping));
        memory.Dispose();
        Fds.AssertNoneOpenedSince(baseline, "a disposed region");
        Assert.Equal(mappings, ProcMaps.Count(MemfdMapping));
        Assert.False(ProcMaps.Containing(address)?.Path.Contains(MemfdMapping, StringComparison.Ordinal) ?? false, "the mapping outlived its owner");
    }

    [Fact]
    public void SendAndReceive_EmbeddedHandles_MoveTheirDescriptors_AndLeaveNoneBehind()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        int mappings = ProcMaps.Count(MemfdMapping);
        (IpcSender<OptionalHandles[]> tx, IpcReceiver<OptionalHandles[]> rx) = Ipc.Channel<OptionalHandles[]>();
        var kept = new List<IpcReceiver<int>>();
        Dictionary<int, string> beforeHandles = Fds.Snapshot();
        var message = new OptionalHandles[10];
        for (int i = 0; i < message.Length; i++)
        {
            (IpcSender<int> s, IpcReceiver<int> r) = Ipc.Channel<int>();
            kept.Add(r);
            message[i] = new OptionalHandles(s, null, IpcSharedMemory.FromByte((byte)i, 5000), i);
        }

        Dictionary<int, string> handleFds = Fds.OpenedSince(beforeHandles);
        Assert.Equal(30, handleFds.Count);
        tx.Send(message);

        // The 10 senders and 10 regions left this process's table (they are in flight); the 10 kept receivers stay.
        Assert.Equal(20, Fds.ClosedSince(handleFds).Count);
        Assert.Equal(mappings, ProcMaps.Count(MemfdMapping));
        Dictionary<int, string> afterSend = Fds.Snapshot();
        OptionalHandles[] received = rx.ReceiveWithin();
        Assert.Equal(20, Fds.OpenedSince(afterSend).Count);
        Assert.Equal(mappings + 10, ProcMaps.Count(MemfdMapping));
        foreach (OptionalHandles handles in received)
        {
            handles.Sender!.Dispose();
            handles.Memory!.Dispose();
        }

        kept.ForEach(r => r.Dispose());
        tx.Dispose();
        rx.Dispose();
        Fds.AssertNoneOpenedSince(baseline, "embedded handles");
        Assert.Equal(mappings, ProcMaps.Count(MemfdMapping));
    }

    [Fact(Timeout = 30_000)]
    public async Task LargeMessages_TheirMemfdBodiesAreClosedOnceReceived()
    {
        (IpcSender<byte[]> tx, IpcReceiver<byte[]> rx) = Ipc.Channel<byte[]>();
        (IpcBytesSender btx, IpcBytesReceiver brx) = Ipc.BytesChannel();
        using (tx)
        using (rx)
        using (btx)
        using (brx)
        {
            tx.Send(new byte[200_000]);
            rx.ReceiveWithin();
            Dictionary<int, string> baseline = Fds.Baseline();
            for (int i = 0; i < 10; i++)
            {
                tx.Send(new byte[300_000 + i]);
                await tx.SendAsync(new byte[300_000 + i]);
                btx.Send(new byte[500_000]);
            }

            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(300_000 + i, rx.ReceiveWithin().Length);
                Assert.Equal(300_000 + i, (await rx.ReceiveAsync().WithTimeout()).Length);
                Assert.Equal(500_000, brx.ReceiveWithin().Length);
            }

            Fds.AssertNoneOpenedSince(baseline, "large messages");
        }
    }

    [Fact]
    public void FailedSend_ToAGoneReceiver_MovesNothing_AndLeaksNothing()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        (IpcSender<PersonAndMemory> tx, IpcReceiver<PersonAndMemory> rx) = Ipc.Channel<PersonAndMemory>();
        rx.Dispose();
        var memory = IpcSharedMemory.FromByte(3, 10);
        Dictionary<int, string> before = Fds.Snapshot();
        Assert.Throws<IpcDisconnectedException>(() => tx.Send(new PersonAndMemory(new Named(new string('x', 400_000), 1), memory)));
        Fds.AssertNoneOpenedSince(before, "a send that failed");
        Assert.Empty(Fds.ClosedSince(before));
        Assert.Equal(10, memory.Length);
        memory.Dispose();
        tx.Dispose();
        Fds.AssertNoneOpenedSince(baseline, "a failed send");
    }

    [Fact]
    public void ReceiverSet_DisposeAndClosedEvents_CloseEveryMember()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        var set = new IpcReceiverSet();
        var senders = new List<IpcSender<int>>();
        var channelFds = new List<Dictionary<int, string>>();
        for (int i = 0; i < 5; i++)
        {
            Dictionary<int, string> before = Fds.Snapshot();
            (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
            senders.Add(tx);
            set.Add(rx);
            channelFds.Add(Fds.OpenedSince(before));
            Assert.Equal(2, channelFds[i].Count);
        }

        // Two channels close: the set closes their receivers as it reports them.
        senders[0].Dispose();
        senders[1].Dispose();
        Assert.All(set.SelectAtLeast(2), e => Assert.IsType<IpcChannelClosed>(e));
        Assert.Equal(2, Fds.ClosedSince(channelFds[0]).Count);
        Assert.Equal(2, Fds.ClosedSince(channelFds[1]).Count);
        Assert.Empty(Fds.ClosedSince(channelFds[2]));

        set.Dispose();
        senders.ForEach(s => s.Dispose());
        Fds.AssertNoneOpenedSince(baseline, "a receiver set");
    }

    [Fact(Timeout = 30_000)]
    public async Task Servers_AcceptedAndDisposed_LeaveNoDescriptorOrDirectory()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        string oneShotDirectory;
        using (var oneShot = new IpcOneShotServer<int>())
        {
            oneShotDirectory = Path.GetDirectoryName(oneShot.Name)!;
            using IpcSender<int> tx = IpcSender<int>.Connect(oneShot.Name);
            tx.Send(1);
            (IpcReceiver<int> rx, _) = oneShot.Accept(ReceiveExtensions.Patience);
            rx.Dispose();
        }

        string serverDirectory;
        using (var server = new IpcServer<int>())
        {
            serverDirectory = Path.GetDirectoryName(server.Name)!;
            for (int i = 0; i < 3; i++)
            {
                using IpcSender<int> tx = IpcSender<int>.Connect(server.Name);
                tx.Send(i);
                (IpcReceiver<int> rx, _, _) = await server.AcceptAsync().WithTimeout();
                rx.Dispose();
            }

            // Left pending: closed by Dispose.
            IpcSender<int>.Connect(server.Name).Dispose();
            using IpcSender<int> silent = IpcSender<int>.Connect(server.Name);
            Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.Zero));
        }

        new IpcOneShotServer<string>().Dispose();
        Fds.AssertNoneOpenedSince(baseline, "servers");
        Assert.False(Directory.Exists(oneShotDirectory));
        Assert.False(Directory.Exists(serverDirectory));
    }

    [Fact(Timeout = 30_000)]
    public async Task Router_ShutDown_ClosesItsSetAndEveryRoute()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        var router = new IpcRouter();
        var senders = new List<IpcSender<int>>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (int i = 0; i < 3; i++)
        {
            (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
            senders.Add(tx);
            router.AddRoute(rx, v => done.TrySetResult());
        }

        senders[0].Send(1);
        await done.Task.WithTimeout();
        router.Shutdown();
        senders.ForEach(s => s.Dispose());
        Fds.AssertNoneOpenedSince(baseline, "a router");
    }

    [Fact(Timeout = 30_000)]
    public async Task AsyncReceive_CancelledOrCompleted_LeavesNoDescriptor()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (var cts = new System.Threading.CancellationTokenSource())
        {
            ValueTask<int> pending = rx.ReceiveAsync(cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WithTimeout());
        }

        ValueTask<int> waiting = rx.ReceiveAsync();
        tx.Send(1);
        Assert.Equal(1, await waiting.WithTimeout());
        tx.Dispose();
        rx.Dispose();
        Fds.AssertNoneOpenedSince(baseline, "async receives");
    }

    [Fact] // Semantics: a sender is closed when it is finalized
    public void Sender_NeverDisposed_IsClosedByItsFinalizer()
    {
        IpcReceiver<int> rx = ReceiverOfAnAbandonedSender();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using (rx)
        {
            Assert.Equal(1, rx.ReceiveWithin());
            rx.AssertDisconnectedWithin();
        }
    }

    [Fact] // Semantics: a receiver is closed when it is finalized
    public void Receiver_NeverDisposed_IsClosedByItsFinalizer()
    {
        IpcSender<int> tx = SenderOfAnAbandonedReceiver();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using (tx)
        {
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(2));
        }
    }

    [Fact(Timeout = 60_000)] // Semantics: no handle leaks into a child process that did not receive it
    public async Task Child_InheritsNoChannelSocketOrSharedMemory()
    {
        HashSet<string> before = Fds.SocketTargets();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        (IpcBytesSender btx, IpcBytesReceiver brx) = Ipc.BytesChannel();
        var memory = IpcSharedMemory.FromByte(9, 4096);
        var set = new IpcReceiverSet();
        (IpcSender<int> setTx, IpcReceiver<int> setRx) = Ipc.Channel<int>();
        set.Add(setRx);
        var otherServer = new IpcServer<int>();

        // Descriptors that arrived in a message (received with MSG_CMSG_CLOEXEC) must not leak either.
        (IpcSender<OptionalHandles> carrierTx, IpcReceiver<OptionalHandles> carrierRx) = Ipc.Channel<OptionalHandles>();
        (IpcSender<int> travelling, IpcReceiver<int> travellingRx) = Ipc.Channel<int>();
        carrierTx.Send(new OptionalHandles(travelling, null, IpcSharedMemory.FromByte(1, 4096), 0));
        OptionalHandles arrived = carrierRx.ReceiveWithin();
        using var server = new IpcOneShotServer<FdList>();
        HashSet<string> ours = Fds.SocketTargets();
        ours.ExceptWith(before);
        Assert.True(ours.Count >= 11, $"expected this test's sockets, found {ours.Count}");

        try
        {
            using TestChildProcess child = TestChildProcess.Start("core-list-fds", [server.Name]);
            (IpcReceiver<FdList> listRx, FdList list) = server.Accept(TimeSpan.FromSeconds(60));
            listRx.Dispose();
            await child.AssertSuccessAsync();
            Assert.Equal(child.Pid, list.Pid);
            List<string> inherited = list.Entries.Where(e => ours.Any(s => e.EndsWith(s, StringComparison.Ordinal)) || e.Contains(MemfdMapping, StringComparison.Ordinal)).ToList();
            Assert.True(inherited.Count == 0, $"the child inherited: {string.Join(", ", inherited)}");
        }
        finally
        {
            tx.Dispose();
            rx.Dispose();
            btx.Dispose();
            brx.Dispose();
            memory.Dispose();
            set.Dispose();
            setTx.Dispose();
            otherServer.Dispose();
            carrierTx.Dispose();
            carrierRx.Dispose();
            travellingRx.Dispose();
            arrived.Sender!.Dispose();
            arrived.Memory!.Dispose();
        }
    }

    [Fact(Timeout = 30_000)] // Semantics: CLOEXEC everywhere
    public async Task EveryDescriptorIpcChannelOpens_IsCloseOnExec()
    {
        Dictionary<int, string> baseline = Fds.Baseline();
        var owners = new List<IDisposable>();
        (IpcSender<OptionalHandles> tx, IpcReceiver<OptionalHandles> rx) = Ipc.Channel<OptionalHandles>();
        owners.Add(tx);
        owners.Add(rx);
        owners.Add(tx.Clone());
        (IpcBytesSender btx, IpcBytesReceiver brx) = Ipc.BytesChannel();
        owners.Add(btx);
        owners.Add(brx);
        owners.Add(IpcSharedMemory.FromByte(1, 10));
        owners.Add(IpcSharedMemory.FromBytes([]));
        var set = new IpcReceiverSet();
        owners.Add(set);
        (IpcSender<int> setTx, IpcReceiver<int> setRx) = Ipc.Channel<int>();
        owners.Add(setTx);
        set.Add(setRx);
        ValueTask<IReadOnlyList<IpcSelectionResult>> selecting = set.SelectAsync();

        // Received descriptors, including a large body's memfd and a server's accepted socket.
        (IpcSender<int> sub, IpcReceiver<int> subRx) = Ipc.Channel<int>();
        owners.Add(subRx);
        tx.Send(new OptionalHandles(sub, null, IpcSharedMemory.FromBytes(new byte[200_000]), 1));
        OptionalHandles arrived = rx.ReceiveWithin();
        owners.Add(arrived.Sender!);
        owners.Add(arrived.Memory!);
        var server = new IpcServer<int>();
        owners.Add(server);
        IpcSender<int> client = IpcSender<int>.Connect(server.Name);
        owners.Add(client);
        client.Send(1);
        (IpcReceiver<int> accepted, _, _) = server.Accept(ReceiveExtensions.Patience);
        owners.Add(accepted);
        owners.Add(new IpcOneShotServer<int>());

        try
        {
            List<int> opened = Fds.Snapshot().Keys.Where(fd => !baseline.ContainsKey(fd)).ToList();
            Assert.True(opened.Count >= 15, $"expected this test's descriptors, found {opened.Count}");
            List<string> inheritable = opened
                .Where(fd => !IsCloseOnExec(fd))
                .Select(fd => $"{fd} -> {new FileInfo($"/proc/self/fd/{fd}").LinkTarget}")
                .ToList();
            Assert.True(inheritable.Count == 0, $"not close-on-exec: {string.Join(", ", inheritable)}");
        }
        finally
        {
            owners.ForEach(o => o.Dispose());
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => selecting.WithTimeout());
        Fds.AssertNoneOpenedSince(baseline, "after disposing every owner");
    }

    [Theory] // Semantics: every object that owns an OS handle is IDisposable
    [InlineData(typeof(IpcSender<int>))]
    [InlineData(typeof(IpcReceiver<int>))]
    [InlineData(typeof(IpcBytesSender))]
    [InlineData(typeof(IpcBytesReceiver))]
    [InlineData(typeof(OpaqueIpcSender))]
    [InlineData(typeof(OpaqueIpcReceiver))]
    [InlineData(typeof(IpcSharedMemory))]
    [InlineData(typeof(IpcReceiverSet))]
    [InlineData(typeof(IpcMessage))]
    [InlineData(typeof(IpcOneShotServer<int>))]
    [InlineData(typeof(IpcServer<int>))]
    [InlineData(typeof(IpcRouter))]
    public void HandleOwningType_IsDisposable(Type type)
    {
        Assert.True(typeof(IDisposable).IsAssignableFrom(type), $"{type.Name} owns OS handles but is not IDisposable");
    }

    private static bool IsCloseOnExec(int fd)
    {
        const int OCloexec = 0x80000; // 02000000 octal
        string? flags = File.ReadLines($"/proc/self/fdinfo/{fd}").FirstOrDefault(l => l.StartsWith("flags:", StringComparison.Ordinal));
        return flags is not null && (Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & OCloexec) != 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IpcReceiver<int> ReceiverOfAnAbandonedSender()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        tx.Send(1);
        return rx;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IpcSender<int> SenderOfAnAbandonedReceiver()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        GC.KeepAlive(rx);
        return tx;
    }
}
