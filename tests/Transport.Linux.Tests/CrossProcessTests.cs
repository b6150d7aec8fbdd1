using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Real child processes (tests/TestChild) on the other end (Rust: cross_process_*_spawn; the *_fork variants do not
/// apply: a .NET process cannot fork safely).
/// </summary>
public class CrossProcessTests
{
    private static async Task<(TransportReceiver Receiver, PeerCredentials Peer)> AcceptChildAsync(TransportServer server, TestChildProcess child)
    {
        (TransportReceiver rx, PeerCredentials peer) = await server.AcceptAsync(CancellationToken.None).WithTimeout();
        Assert.Equal(child.Pid, peer.Pid);
        return (rx, peer);
    }

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "cross_process_spawn")]
    public async Task CrossProcessSpawn_ChildConnectsByName_MessageArrives()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-connect-send", [server.Name, "test message"]);
        (TransportReceiver rx, _) = await AcceptChildAsync(server, child);
        using (rx)
        {
            Assert.Equal("test message", Encoding.UTF8.GetString(rx.ReceiveBytes()));
            await child.AssertSuccessAsync();
            rx.AssertClosed();
        }
    }

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "cross_process_sender_transfer_spawn")]
    public async Task CrossProcessSenderTransfer_ChildSendsSender_ReplyTravelsBack()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-sender-transfer", [server.Name]);
        (TransportReceiver rx, _) = await AcceptChildAsync(server, child);
        using (rx)
        {
            (byte[] foo, ReceivedHandles? handles) = rx.ReceiveMessage();
            Assert.Equal("foo"u8.ToArray(), foo);
            using (handles)
            using (TransportSender toChild = handles!.TakeChannel(0).ToSender())
            {
                toChild.Send("baz"u8);
            }

            Assert.Equal("bar"u8.ToArray(), rx.ReceiveBytes());
            await child.AssertSuccessAsync();
            rx.AssertClosed();
        }
    }

    [Fact(Timeout = 60_000)]
    [Trait("Rust", "cross_process_two_step_transfer_spawn")]
    public async Task CrossProcessTwoStepTransfer_ReceiverWithQueuedReceiver_ChildDigsOutCookie()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-two-step", [server.Name]);
        (TransportReceiver bootstrap, _) = await AcceptChildAsync(server, child);
        using (bootstrap)
        {
            (byte[] ready, ReceivedHandles? handles) = bootstrap.ReceiveMessage();
            Assert.Equal("ready"u8.ToArray(), ready);
            using TransportSender toChild = handles!.TakeChannel(0).ToSender();
            handles.Dispose();

            byte[] cookie = Payload.Pattern(77, seed: 13);
            (TransportSender tx1, TransportReceiver rx1) = T.CreateChannel();
            (TransportSender tx2, TransportReceiver rx2) = T.CreateChannel();
            using (tx1)
            using (tx2)
            {
                tx1.Send(cookie);
                tx2.Send(default, [rx1], default);
                rx1.Dispose();
                toChild.Send(default, [rx2], default);
                rx2.Dispose();
            }

            Assert.Equal(cookie, bootstrap.ReceiveBytes());
            await child.AssertSuccessAsync();
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData(200, 1000)]
    [InlineData(3, 1 << 20)]
    [InlineData(1, 50 << 20)]
    [Trait("Rust", "spawn_one_shot_server_client")]
    public async Task ChildSendsThenExitsWithoutDisposing_EveryMessageThenClosed(int count, int size)
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-send-and-exit", [server.Name, count.ToString(), size.ToString()]);
        (TransportReceiver rx, _) = await AcceptChildAsync(server, child);
        using (rx)
        {
            byte[] expected = Payload.Pattern(size);
            for (int m = 0; m < count; m++)
            {
                byte[] received = rx.ReceiveBytes();
                expected[0] = (byte)m;
                Assert.Equal(size, received.Length);
                Assert.True(received.AsSpan().SequenceEqual(expected), $"message {m} differs");
            }

            await child.AssertSuccessAsync();
            rx.AssertClosed();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task MultiClientServer_ThreeChildren_PeerPidIdentifiesEach()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        var children = new List<TestChildProcess>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                children.Add(TestChildProcess.Start("transport-connect-send", [server.Name, $"child {i}"]));
            }

            for (int i = 0; i < 3; i++)
            {
                (TransportReceiver rx, PeerCredentials peer) = await server.AcceptAsync(CancellationToken.None).WithTimeout();
                using (rx)
                {
                    int index = children.FindIndex(c => c.Pid == peer.Pid);
                    Assert.True(index >= 0, $"peer pid {peer.Pid} is none of the children");
                    Assert.Equal($"child {index}", Encoding.UTF8.GetString(rx.ReceiveBytes()));
                    Assert.Equal(Posix.GetUid(), peer.Uid);
                }
            }

            foreach (TestChildProcess child in children)
            {
                await child.AssertSuccessAsync();
            }
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Filter_RefusesChildByPid_ChildsSendFailsAndNextClientAccepted()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        int refusedPid = 0;
        var refusedSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Filter = peer =>
        {
            if (peer.Pid == Volatile.Read(ref refusedPid))
            {
                refusedSeen.TrySetResult();
                return false;
            }

            return true;
        };

        using TestChildProcess refused = TestChildProcess.Start("transport-refused", [server.Name]);
        Volatile.Write(ref refusedPid, refused.Pid);
        ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> accepting = server.AcceptAsync(CancellationToken.None);
        await refusedSeen.Task.WithTimeout();
        Assert.False(accepting.IsCompleted);
        await refused.AssertSuccessAsync(); // its send failed as disconnected
        Assert.Contains("refused:", await refused.OutputAsync().WithTimeout(), StringComparison.Ordinal);

        using TestChildProcess admitted = TestChildProcess.Start("transport-connect-send", [server.Name, "admitted"]);
        (TransportReceiver rx, PeerCredentials peer) = await accepting.WithTimeout();
        using (rx)
        {
            Assert.Equal(admitted.Pid, peer.Pid);
            Assert.Equal("admitted"u8.ToArray(), rx.ReceiveBytes());
        }

        await admitted.AssertSuccessAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task RegionFromChild_StaysReadableAfterChildExits()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-send-region", [server.Name, (3 << 20).ToString(), "186"]);
        (TransportReceiver rx, _) = await AcceptChildAsync(server, child);
        using (rx)
        {
            (byte[] payload, ReceivedHandles? handles) = rx.ReceiveMessage();
            Assert.Equal("region"u8.ToArray(), payload);
            await child.AssertSuccessAsync();
            using (handles)
            using (TransportSharedMemory region = handles!.TakeRegion(0))
            {
                Assert.Equal(3 << 20, region.Length);
                Assert.Equal(-1, region.Span.IndexOfAnyExcept((byte)186));
                Assert.Equal(RawPeer.AllSeals, Interop.Fcntl(region.Fd(), Interop.F_GET_SEALS, 0));
            }
        }
    }

    /// <summary>
    /// Rust: receiver_set_eintr (#137), extended to every blocking call. The child blocks, on a thread named
    /// "ipc-eintr", in poll (receive without and with a timeout, accept), epoll_wait (select, timed select), sendmsg on a full
    /// channel, and (on the epoll engine's thread) an asynchronous receive. For each, the test waits until /proc
    /// shows the thread inside that system call, stops and continues the child (which makes such calls fail with
    /// EINTR), then sends; the child must deliver exactly what was sent.
    /// </summary>
    [Fact(Timeout = 120_000)]
    [Trait("Rust", "receiver_set_eintr")]
    public async Task BlockedCalls_ChildStoppedAndContinued_CarryOnAndDeliverExactly()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-eintr", [server.Name]);
        (TransportReceiver bootstrap, _) = await AcceptChildAsync(server, child);
        using (bootstrap)
        {
            (byte[] ready, ReceivedHandles? handles) = bootstrap.ReceiveMessage();
            Assert.Equal("ready"u8.ToArray(), ready);
            using TransportSender toChild = handles!.TakeChannel(0).ToSender();
            handles.Dispose();

            int tid = 0;
            Poll.Until(() => (tid = ProcFs.FindThread(child.Pid, "ipc-eintr") ?? 0) != 0, "the child's ipc-eintr thread");

            void InterruptWhileBlockedIn(long[] syscalls, int thread)
            {
                Poll.Until(() => syscalls.Contains(ProcFs.Syscall(child.Pid, thread)), $"the child to block in syscall {string.Join("/", syscalls)}");
                child.Signal(Posix.SIGSTOP);
                Poll.Until(() => ProcFs.State(child.Pid) == 'T', "the child to stop");
                child.Signal(Posix.SIGCONT);
                Poll.Until(() => ProcFs.State(child.Pid) != 'T', "the child to continue");
            }

            string Echo() => Encoding.UTF8.GetString(bootstrap.ReceiveBytes());

            InterruptWhileBlockedIn(Syscalls.Poll, tid);
            toChild.Send("one"u8);
            Assert.Equal("recv:one", Echo());

            InterruptWhileBlockedIn(Syscalls.Poll, tid);
            toChild.Send("two"u8);
            Assert.Equal("recv-timeout:two", Echo());

            string serverEcho = Echo();
            Assert.StartsWith("server:", serverEcho, StringComparison.Ordinal);
            InterruptWhileBlockedIn(Syscalls.Poll, tid);
            using (TransportSender toChildServer = T.Connect(serverEcho["server:".Length..]))
            {
                toChildServer.Send("three"u8);
            }

            Assert.Equal("accept:three", Echo());

            InterruptWhileBlockedIn(Syscalls.EpollWait, tid);
            toChild.Send("four"u8);
            Assert.Equal("select:four", Echo());

            InterruptWhileBlockedIn(Syscalls.EpollWait, tid);
            toChild.Send("five"u8);
            Assert.Equal("select-timeout:five", Echo());

            InterruptWhileBlockedIn(Syscalls.SendMsg, tid);
            for (int i = 0; i < 2000; i++)
            {
                Assert.Equal(i, BinaryPrimitives.ReadInt32LittleEndian(bootstrap.ReceiveBytes()));
            }

            Assert.Equal("sent", Echo());
            Assert.Equal("armed", Echo());
            int engine = 0;
            Poll.Until(() => (engine = ProcFs.FindThread(child.Pid, "IpcChannel epol") ?? 0) != 0, "the child's epoll engine thread");
            InterruptWhileBlockedIn(Syscalls.EpollWait, engine);
            toChild.Send("six"u8);
            Assert.Equal("async:six", Echo());

            await child.AssertSuccessAsync();
            bootstrap.AssertClosed();
        }
    }
}
