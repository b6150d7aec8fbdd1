using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>One-shot and multi-client servers (Rust: server_accept_first, server_connect_first; #261, #307, #378).</summary>
public class ServerTests
{
    private static readonly TimeSpan s_childWait = TimeSpan.FromSeconds(60);

    [Fact]
    public void OneShot_ConnectFirst_AcceptReturnsTheFirstMessageAndAWorkingReceiver_ThenTheNameIsGone()
    {
        using var server = new IpcOneShotServer<Named>();
        string directory = Path.GetDirectoryName(server.Name)!;
        Assert.True(Directory.Exists(directory));
        using IpcSender<Named> tx = IpcSender<Named>.Connect(server.Name);
        tx.Send(new Named("first", 1));
        tx.Send(new Named("second", 2));

        (IpcReceiver<Named> rx, Named first) = server.Accept(s_childWait);
        using (rx)
        {
            Assert.Equal(new Named("first", 1), first);
            Assert.Equal(new Named("second", 2), rx.ReceiveWithin());
            Assert.False(Directory.Exists(directory), "the one-shot server's directory outlived its accept");
            IpcException refused = Assert.ThrowsAny<IpcException>(() => IpcSender<Named>.Connect(server.Name));
            Assert.Equal(2, refused.Errno); // ENOENT
            Assert.Throws<InvalidOperationException>(() => server.Accept(TimeSpan.Zero));
        }
    }

    [Fact(Timeout = 30_000)] // Rust: server_accept_first
    public async Task OneShot_AcceptFirst_CompletesWhenAClientConnectsLater()
    {
        using var server = new IpcOneShotServer<string>();
        Task<(IpcReceiver<string> Receiver, string FirstMessage)> accepting = server.AcceptAsync();
        Assert.False(accepting.IsCompleted);
        await Task.Run(() =>
        {
            using IpcSender<string> tx = IpcSender<string>.Connect(server.Name);
            tx.Send("late");
        });
        (IpcReceiver<string> rx, string first) = await accepting.WithTimeout();
        using (rx)
        {
            Assert.Equal("late", first);
            rx.AssertDisconnectedWithin();
        }
    }

    [Fact(Timeout = 30_000)] // #261: Accept(timeout) when nobody connects
    public async Task OneShot_AcceptWithTimeout_NobodyConnects_ThrowsTimeout_AndStaysUsable()
    {
        using var server = new IpcOneShotServer<int>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.FromMilliseconds(150)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(149), $"gave up after {clock.Elapsed}");

        using var cts = new CancellationTokenSource();
        Task<(IpcReceiver<int>, int)> cancelled = server.AcceptAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WithTimeout());

        using IpcSender<int> tx = IpcSender<int>.Connect(server.Name);
        tx.Send(5);
        (IpcReceiver<int> rx, int first) = await server.AcceptAsync().WithTimeout();
        using (rx)
        {
            Assert.Equal(5, first);
        }
    }

    [Fact]
    public void OneShot_ClientSilentWhenAcceptTimesOut_IsNotLost_AndIsAcceptedOnceItSends()
    {
        using var server = new IpcOneShotServer<int>();
        using IpcSender<int> tx = IpcSender<int>.Connect(server.Name);
        Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.FromMilliseconds(100)));
        tx.Send(8);
        (IpcReceiver<int> rx, int first) = server.Accept(s_childWait);
        using (rx)
        {
            Assert.Equal(8, first);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task OneShot_AcceptAsync_AlreadyCancelledToken_ThrowsOperationCanceled()
    {
        using var server = new IpcOneShotServer<int>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.AcceptAsync(new CancellationToken(canceled: true)).WithTimeout());
    }

    [Fact] // #378/#380: a one-shot server takes one client; the others are refused, never silently merged or lost
    public void OneShot_TwoClientsConnected_OneIsAccepted_TheOtherIsDisconnected()
    {
        using var server = new IpcOneShotServer<int>();
        using IpcSender<int> first = IpcSender<int>.Connect(server.Name);
        using IpcSender<int> second = IpcSender<int>.Connect(server.Name);
        first.Send(1);
        second.Send(2);
        (IpcReceiver<int> rx, int accepted) = server.Accept(s_childWait);
        using (rx)
        {
            IpcSender<int> winner = accepted == 1 ? first : second;
            IpcSender<int> loser = accepted == 1 ? second : first;
            Assert.Throws<IpcDisconnectedException>(() => loser.Send(3));
            winner.Send(4);
            Assert.Equal(4, rx.ReceiveWithin());
            Assert.False(rx.TryReceive(out _));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task AcceptAsync_ServerDisposedWhileWaiting_ThrowsObjectDisposed()
    {
        var oneShot = new IpcOneShotServer<int>();
        Task<(IpcReceiver<int>, int)> pendingOneShot = oneShot.AcceptAsync();
        oneShot.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pendingOneShot.WithTimeout());

        var server = new IpcServer<int>();
        Task<(IpcReceiver<int>, int, IpcPeer)> pending = server.AcceptAsync();
        server.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WithTimeout());
        Assert.Throws<ObjectDisposedException>(() => server.Accept(TimeSpan.Zero));
    }

    [Fact]
    public void OneShot_ClientHangsUpWithoutSending_AcceptThrowsDisconnected()
    {
        using var server = new IpcOneShotServer<int>();
        IpcSender<int>.Connect(server.Name).Dispose();
        Assert.Throws<IpcDisconnectedException>(() => server.Accept(s_childWait));
    }

    [Fact]
    public void OneShot_Disposed_RemovesItsName()
    {
        var server = new IpcOneShotServer<int>();
        string name = server.Name;
        server.Dispose();
        Assert.False(File.Exists(name));
        Assert.False(Directory.Exists(Path.GetDirectoryName(name)));
        Assert.ThrowsAny<IpcException>(() => IpcSender<int>.Connect(name));
    }

    [Fact]
    public void Connect_NoSuchServer_ThrowsIpcExceptionWithENOENT()
    {
        IpcException error = Assert.ThrowsAny<IpcException>(() => IpcSender<int>.Connect($"/tmp/no-such-ipc-channel-{Guid.NewGuid():N}/s"));
        Assert.Equal(2, error.Errno);
        Assert.IsAssignableFrom<IOException>(error);
    }

    [Fact(Timeout = 120_000)] // IpcServer: many clients, each with its kernel-reported pid
    public async Task Server_ThreeChildren_EachAcceptedWithItsOwnPid_Uid_AndGid()
    {
        using var server = new IpcServer<ChildHello>();
        TestChildProcess[] children = Enumerable.Range(0, 3).Select(_ => TestChildProcess.Start("core-hello", [server.Name])).ToArray();
        try
        {
            var accepted = new Dictionary<int, IpcPeer>();
            for (int i = 0; i < children.Length; i++)
            {
                (IpcReceiver<ChildHello> rx, ChildHello hello, IpcPeer peer) = server.Accept(s_childWait);
                using (rx)
                {
                    Assert.Equal(hello.Pid, peer.Pid);
                    accepted.Add(peer.Pid, peer);
                    rx.AssertDisconnectedWithin(s_childWait);
                }
            }

            Assert.Equal(children.Select(c => c.Pid).Order(), accepted.Keys.Order());
            (uint uid, uint gid) = CurrentIds();
            Assert.All(accepted.Values, peer => Assert.Equal((uid, gid), (peer.Uid, peer.Gid)));
            foreach (TestChildProcess child in children)
            {
                await child.AssertSuccessAsync();
            }
        }
        finally
        {
            foreach (TestChildProcess child in children)
            {
                child.Dispose();
            }
        }
    }

    [Fact(Timeout = 120_000)] // IpcServer: the filter refuses a peer before reading it; the next one is accepted
    public async Task Server_FilterRefusesAPeer_TheNextPeerIsAccepted()
    {
        int refusedPid = -1;
        var seen = new ConcurrentQueue<IpcPeer>();
        using var server = new IpcServer<ChildHello>(peer =>
        {
            seen.Enqueue(peer);
            return peer.Pid != Volatile.Read(ref refusedPid);
        });

        using TestChildProcess refused = TestChildProcess.Start("core-hello", [server.Name, "tolerant"]);
        Volatile.Write(ref refusedPid, refused.Pid);
        await refused.AssertSuccessAsync();

        using TestChildProcess welcome = TestChildProcess.Start("core-hello", [server.Name]);
        (IpcReceiver<ChildHello> rx, ChildHello hello, IpcPeer peer) = server.Accept(s_childWait);
        using (rx)
        {
            Assert.Equal(welcome.Pid, peer.Pid);
            Assert.Equal(welcome.Pid, hello.Pid);
            Assert.Contains(seen, p => p.Pid == refused.Pid);
            await welcome.AssertSuccessAsync();
        }

        Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.FromMilliseconds(50)));
    }

    [Fact(Timeout = 120_000)] // IpcServer: misbehaving clients never stop it from accepting the next one
    public async Task Server_GarbageHangUpAndWrongTypeClients_AreSkipped_TheGoodClientIsAccepted()
    {
        using var server = new IpcServer<ChildHello>();

        // A hostile process writes a body that is not MessagePack.
        using (TestChildProcess garbage = TestChildProcess.Start("core-garbage-client", [server.Name]))
        {
            await garbage.AssertSuccessAsync();
        }

        IpcSender<ChildHello>.Connect(server.Name).Dispose();
        using (IpcSender<string> wrongType = IpcSender<string>.Connect(server.Name))
        {
            wrongType.Send("not a hello");
        }

        // A silent client neither blocks the server nor counts as accepted.
        using IpcSender<ChildHello> silent = IpcSender<ChildHello>.Connect(server.Name);
        using IpcSender<ChildHello> good = IpcSender<ChildHello>.Connect(server.Name);
        good.Send(new ChildHello(Environment.ProcessId, null));

        (IpcReceiver<ChildHello> rx, ChildHello hello, IpcPeer peer) = await server.AcceptAsync().WithTimeout();
        using (rx)
        {
            Assert.Equal(Environment.ProcessId, hello.Pid);
            Assert.Equal(Environment.ProcessId, peer.Pid);
            good.Send(new ChildHello(2, null));
            Assert.Equal(2, rx.ReceiveWithin().Pid);
        }

        Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.FromMilliseconds(50)));
    }

    [Fact(Timeout = 30_000)]
    public async Task Server_AcceptTimeoutAndCancellation_ThenAcceptsLaterClients()
    {
        using var server = new IpcServer<int>();
        Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.FromMilliseconds(100)));
        using var cts = new CancellationTokenSource();
        Task<(IpcReceiver<int>, int, IpcPeer)> cancelled = server.AcceptAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WithTimeout());

        for (int i = 0; i < 3; i++)
        {
            using IpcSender<int> tx = IpcSender<int>.Connect(server.Name);
            tx.Send(i);
            (IpcReceiver<int> rx, int first, IpcPeer peer) = await server.AcceptAsync().WithTimeout();
            using (rx)
            {
                Assert.Equal(i, first);
                Assert.Equal(Environment.ProcessId, peer.Pid);
            }
        }
    }

    [Fact]
    public void Server_Disposed_RemovesItsName_AndClosesClientsNotYetAccepted()
    {
        var server = new IpcServer<int>();
        string name = server.Name;
        using IpcSender<int> backlogged = IpcSender<int>.Connect(name);

        // A silent client: the server admits it while looking for a readable one, then times out.
        using IpcSender<int> silent = IpcSender<int>.Connect(name);
        Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.Zero));
        using IpcSender<int> late = IpcSender<int>.Connect(name);

        server.Dispose();
        Assert.False(File.Exists(name));
        Assert.False(Directory.Exists(Path.GetDirectoryName(name)));
        Assert.ThrowsAny<IpcException>(() => IpcSender<int>.Connect(name));
        Assert.Throws<IpcDisconnectedException>(() => backlogged.Send(1));
        Assert.Throws<IpcDisconnectedException>(() => silent.Send(1));
        Assert.Throws<IpcDisconnectedException>(() => late.Send(1));
    }

    private static (uint Uid, uint Gid) CurrentIds()
    {
        // "Uid:\treal\teffective\tsaved\tfs"
        string[] status = File.ReadAllLines("/proc/self/status");
        uint Effective(string key) => uint.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);
        return (Effective("Uid:"), Effective("Gid:"));
    }
}
