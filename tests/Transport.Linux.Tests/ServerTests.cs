using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>One-shot and multi-client servers, connect errors, the socket directory (Rust: server_* tests, §2.8).</summary>
/// <remarks>
/// Accept returns a client only once its socket is readable: it sent its first message, or hung up. So every
/// client here that is expected to be accepted sends first; a client that merely connects stays pending (the
/// filter has already run on it) and never blocks the next one.
/// </remarks>
public class ServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static (TransportReceiver Receiver, PeerCredentials Peer) AcceptOrFail(TransportServer server)
    {
        (TransportReceiver, PeerCredentials)? client = server.Accept(Bound);
        Assert.NotNull(client);
        return client.Value;
    }

    [Fact(Timeout = 30_000)]
    [Trait("Rust", "server_accept_first")]
    public async Task ServerAcceptFirst_ClientConnectsWhileAcceptWaits_MessageArrives()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> accepting = server.AcceptAsync(CancellationToken.None);
        Assert.False(accepting.IsCompleted);
        Task client = Task.Run(() =>
        {
            using TransportSender tx = T.Connect(server.Name);
            tx.Send("1234567"u8);
        });
        (TransportReceiver rx, PeerCredentials peer) = await accepting.WithTimeout();
        using (rx)
        {
            Assert.Equal(Environment.ProcessId, peer.Pid);
            Assert.Equal("1234567"u8.ToArray(), rx.ReceiveBytes());
            await client.WithTimeout();
            rx.AssertClosed();
        }
    }

    [Fact(Timeout = 30_000)]
    [Trait("Rust", "server_accept_first")]
    public async Task ServerAcceptFirst_BlockingAcceptOnAnotherThread_Completes()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<(TransportReceiver, PeerCredentials)?> accepting = Task.Factory.StartNew(
            () =>
            {
                waiting.SetResult();
                return server.Accept(Timeout.InfiniteTimeSpan);
            },
            TaskCreationOptions.LongRunning);
        await waiting.Task.WithTimeout();
        using (TransportSender tx = T.Connect(server.Name))
        {
            tx.Send("hi"u8);
        }

        (TransportReceiver, PeerCredentials)? client = await accepting.WithTimeout();
        using TransportReceiver rx = client!.Value.Item1;
        Assert.Equal("hi"u8.ToArray(), rx.ReceiveBytes());
    }

    [Fact]
    [Trait("Rust", "server_connect_first")]
    public void ServerConnectFirst_ClientSendsBeforeAccept_MessageArrives()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using (TransportSender tx = T.Connect(server.Name))
        {
            tx.Send("1234567"u8);
        }

        (TransportReceiver rx, PeerCredentials peer) = AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal(Environment.ProcessId, peer.Pid);
            Assert.Equal(Posix.GetUid(), peer.Uid);
            Assert.Equal(Posix.GetGid(), peer.Gid);
            Assert.Equal("1234567"u8.ToArray(), rx.ReceiveBytes());
            rx.AssertClosed();
        }
    }

    [Fact]
    public void Accept_NoClientWithinTimeout_ReturnsNull()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Null(server.Accept(TimeSpan.FromMilliseconds(50)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(49));
        Assert.Null(server.Accept(TimeSpan.Zero));

        // The server is still listening.
        using TransportSender tx = T.Connect(server.Name);
        tx.Send("after the timeouts"u8);
        (TransportReceiver rx, _) = AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal("after the timeouts"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact]
    public void OneShot_AfterAccept_NameIsGoneAndSecondAcceptThrows()
    {
        TransportServer server = T.CreateServer(oneShot: true);
        string directory = Path.GetDirectoryName(server.Name)!;
        using (server)
        {
            using TransportSender tx = T.Connect(server.Name);
            tx.Send("first"u8);
            (TransportReceiver rx, _) = AcceptOrFail(server);
            using (rx)
            {
                Assert.Equal("first"u8.ToArray(), rx.ReceiveBytes());
                Assert.False(Directory.Exists(directory));
                IpcException error = Assert.Throws<IpcException>(() => T.Connect(server.Name));
                Assert.Equal(Interop.Errno.ENOENT, error.Errno);
                Assert.Throws<InvalidOperationException>(() => server.Accept(TimeSpan.Zero));

                tx.Send("still connected"u8);
                Assert.Equal("still connected"u8.ToArray(), rx.ReceiveBytes());
            }
        }
    }

    [Fact]
    public void OneShot_SecondClientQueuedBeforeAccept_IsRefusedWithDisconnect()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TransportSender first = T.Connect(server.Name);
        using TransportSender second = T.Connect(server.Name);
        first.Send("first"u8);
        (TransportReceiver rx, _) = AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal("first"u8.ToArray(), rx.ReceiveBytes());
            Assert.Throws<IpcDisconnectedException>(() => second.Send("second"u8));
            first.Send("again"u8);
            Assert.Equal("again"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact]
    public void Server_Directory_IsPrivateAndRemovedOnDispose()
    {
        TransportServer server = T.CreateServer(oneShot: false);
        string directory = Path.GetDirectoryName(server.Name)!;
        Assert.True(Directory.Exists(directory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
        Assert.Equal(new[] { server.Name }, Directory.GetFileSystemEntries(directory));
        Assert.True(File.Exists(server.Name));
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(server.Name) <= 107);

        server.Dispose();
        Assert.False(Directory.Exists(directory));
        server.Dispose(); // idempotent
        IpcException error = Assert.Throws<IpcException>(() => T.Connect(server.Name));
        Assert.Equal(Interop.Errno.ENOENT, error.Errno);
        Assert.Throws<ObjectDisposedException>(() => server.Accept(TimeSpan.Zero));
    }

    [Fact]
    public void Servers_EachGetAFreshDirectory()
    {
        using TransportServer a = T.CreateServer(oneShot: true);
        using TransportServer b = T.CreateServer(oneShot: true);
        Assert.NotEqual(Path.GetDirectoryName(a.Name), Path.GetDirectoryName(b.Name));
    }

    [Fact]
    public void Connect_NoSuchServer_ThrowsIpcExceptionWithEnoent()
    {
        string name = Path.Combine(Path.GetTempPath(), $"ipc-no-such-{Guid.NewGuid():N}", "s");
        IpcException error = Assert.Throws<IpcException>(() => T.Connect(name));
        Assert.IsNotType<IpcDisconnectedException>(error);
        Assert.Equal(Interop.Errno.ENOENT, error.Errno);
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_RegularFile_ThrowsIpcExceptionWithErrno()
    {
        string path = Path.GetTempFileName();
        try
        {
            IpcException error = Assert.Throws<IpcException>(() => T.Connect(path));
            Assert.Equal(Interop.Errno.ECONNREFUSED, error.Errno);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Connect_StreamSocket_ThrowsIpcExceptionWithEprototype()
    {
        string directory = Directory.CreateTempSubdirectory("ipc-stream-").FullName;
        string path = Path.Combine(directory, "s");
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen();
            IpcException error = Assert.Throws<IpcException>(() => T.Connect(path));
            Assert.Equal(Interop.Errno.EPROTOTYPE, error.Errno);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\0b")]
    public void Connect_InvalidName_ThrowsArgumentException(string name)
    {
        Assert.Throws<ArgumentException>(() => T.Connect(name));
    }

    [Fact]
    public void Connect_NameLongerThanSunPath_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => T.Connect("/tmp/" + new string('x', 200)));
    }

    [Fact]
    public void MultiClient_ThreeClients_EachGetsItsOwnReceiver()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        var senders = new List<TransportSender>();
        var receivers = new List<TransportReceiver>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                senders.Add(T.Connect(server.Name));
                senders[i].Send([(byte)i]);
                (TransportReceiver rx, PeerCredentials peer) = AcceptOrFail(server);
                receivers.Add(rx);
                Assert.Equal(Environment.ProcessId, peer.Pid);
                Assert.Equal(new[] { (byte)i }, rx.ReceiveBytes());
            }

            for (int i = 2; i >= 0; i--)
            {
                senders[i].Send(Payload.Pattern(10 + i, seed: i));
            }

            for (int i = 0; i < 3; i++)
            {
                Payload.AssertPattern(receivers[i].ReceiveBytes(), 10 + i, seed: i);
                receivers[i].AssertEmpty();
            }

            // Each client is its own channel: closing one closes only its receiver.
            senders[1].Dispose();
            receivers[1].AssertClosed();
            receivers[0].AssertEmpty();
            receivers[2].AssertEmpty();

            // And the server keeps accepting.
            senders.Add(T.Connect(server.Name));
            senders[3].Send("fourth"u8);
            (TransportReceiver fourth, _) = AcceptOrFail(server);
            receivers.Add(fourth);
            Assert.Equal("fourth"u8.ToArray(), fourth.ReceiveBytes());
        }
        finally
        {
            senders.ForEach(s => s.Dispose());
            receivers.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public void Filter_RefusesPeer_RefusedClientSendFailsAndNextClientAccepted()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        var seen = new List<PeerCredentials>();
        bool refuseNext = true;
        server.Filter = peer =>
        {
            seen.Add(peer);
            bool admit = !refuseNext;
            refuseNext = false;
            return admit;
        };

        using TransportSender refused = T.Connect(server.Name);
        Assert.Null(server.Accept(TimeSpan.Zero)); // the pending client is refused, nobody else is waiting
        Assert.Single(seen);
        Assert.Throws<IpcDisconnectedException>(() => refused.Send("let me in"u8));

        using TransportSender admitted = T.Connect(server.Name);
        admitted.Send("welcome"u8);
        (TransportReceiver rx, PeerCredentials peer) = AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal(2, seen.Count);
            Assert.Equal(Environment.ProcessId, peer.Pid);
            Assert.Equal(peer, seen[1]);
            Assert.Equal("welcome"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact]
    public void Filter_OneShotRefusal_KeepsListeningForTheRightClient()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        int calls = 0;
        server.Filter = _ => ++calls > 1;
        using TransportSender refused = T.Connect(server.Name);
        using TransportSender admitted = T.Connect(server.Name);
        admitted.Send("me"u8);
        (TransportReceiver rx, _) = AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal(2, calls);
            Assert.Equal("me"u8.ToArray(), rx.ReceiveBytes());
            Assert.Throws<IpcDisconnectedException>(() => refused.Send("x"u8));
        }
    }

    [Fact]
    public void Filter_Throws_ExceptionPropagatesAndServerKeepsWorking()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        server.Filter = _ => throw new FilterFailure();
        using TransportSender first = T.Connect(server.Name);
        Assert.Throws<FilterFailure>(() => server.Accept(Bound));
        Assert.Throws<IpcDisconnectedException>(() => first.Send("x"u8));

        server.Filter = null;
        using TransportSender second = T.Connect(server.Name);
        second.Send("y"u8);
        (TransportReceiver rx, _) = AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal("y"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact]
    public void Dispose_WithUnacceptedClient_ClientSendFails()
    {
        TransportServer server = T.CreateServer(oneShot: false);
        using TransportSender pending = T.Connect(server.Name);
        server.Dispose();
        Assert.Throws<IpcDisconnectedException>(() => pending.Send("anyone?"u8));
    }

    [Fact(Timeout = 30_000)]
    public async Task AcceptAsync_ServerDisposedWhileWaiting_FailsPromptly()
    {
        TransportServer server = T.CreateServer(oneShot: false);
        ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> accepting = server.AcceptAsync(CancellationToken.None);
        Assert.False(accepting.IsCompleted);
        server.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await accepting.WithTimeout());
    }

    [Fact(Timeout = 30_000)]
    public async Task Accept_BlockedOnAnotherThread_DisposeUnblocksIt()
    {
        TransportServer server = T.CreateServer(oneShot: false);
        var blocked = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task accepting = Task.Factory.StartNew(
            () =>
            {
                blocked.SetResult(Posix.GetTid());
                server.Accept(Timeout.InfiniteTimeSpan);
            },
            TaskCreationOptions.LongRunning);
        int tid = await blocked.Task.WithTimeout();
        Poll.Until(() => Syscalls.Poll.Contains(ProcFs.Syscall(Environment.ProcessId, tid)), "Accept to block in poll");

        server.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => accepting.WithTimeout(TimeSpan.FromSeconds(10)));
    }

    [Fact(Timeout = 30_000)]
    public async Task AcceptAsync_ManyClients_AllAcceptedWithTheirMessages()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        const int Clients = 20;
        Task[] connecting = Enumerable.Range(0, Clients).Select(i => Task.Run(() =>
        {
            using TransportSender tx = T.Connect(server.Name);
            tx.Send(BitConverter.GetBytes(i));
        })).ToArray();

        var seen = new HashSet<int>();
        for (int i = 0; i < Clients; i++)
        {
            (TransportReceiver rx, _) = await server.AcceptAsync(CancellationToken.None).WithTimeout();
            using (rx)
            {
                Assert.True(seen.Add(BitConverter.ToInt32(rx.ReceiveBytes())));
                rx.AssertClosed();
            }
        }

        await Task.WhenAll(connecting).WithTimeout();
        Assert.Equal(Enumerable.Range(0, Clients), seen.Order());
    }

    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SilentClient_DoesNotBlockAcceptingAClientThatSends(bool useAsync)
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        using TransportSender silent = T.Connect(server.Name);
        Assert.Null(server.Accept(TimeSpan.Zero)); // connected, admitted, but nothing to read yet

        // A wait that starts while only the silent client is pending.
        Task<(TransportReceiver Receiver, PeerCredentials Peer)> accepting;
        if (useAsync)
        {
            ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> pending = server.AcceptAsync(CancellationToken.None);
            Assert.False(pending.IsCompleted);
            accepting = pending.AsTask();
        }
        else
        {
            var blocked = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            accepting = Task.Factory.StartNew(
                () =>
                {
                    blocked.SetResult(Posix.GetTid());
                    return AcceptOrFail(server);
                },
                TaskCreationOptions.LongRunning);
            int tid = await blocked.Task.WithTimeout();
            Poll.Until(() => Syscalls.Poll.Contains(ProcFs.Syscall(Environment.ProcessId, tid)), "Accept to block in poll");
        }

        using TransportSender talker = T.Connect(server.Name);
        talker.Send("talker"u8);
        (TransportReceiver rx, PeerCredentials peer) = await accepting.WithTimeout();
        using (rx)
        {
            Assert.Equal(Environment.ProcessId, peer.Pid);
            Assert.Equal("talker"u8.ToArray(), rx.ReceiveBytes());
            rx.AssertEmpty();
        }

        // The silent client was neither returned nor dropped: it is accepted once it speaks.
        silent.Send("late"u8);
        (TransportReceiver late, _) = AcceptOrFail(server);
        using (late)
        {
            Assert.Equal("late"u8.ToArray(), late.ReceiveBytes());
            late.AssertEmpty();
        }

        Assert.Null(server.Accept(TimeSpan.Zero));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HungUpClient_IsReturnedAsReadableAndReportsClosed(bool hangUpWhilePending)
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        TransportSender quitter = T.Connect(server.Name);
        if (hangUpWhilePending)
        {
            // The server has already accepted the connection into its pending set when the client hangs up.
            Assert.Null(server.Accept(TimeSpan.Zero));
        }

        quitter.Dispose();
        (TransportReceiver rx, PeerCredentials peer) = AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal(Environment.ProcessId, peer.Pid);
            rx.AssertClosed();
        }

        // The server goes on accepting.
        using TransportSender next = T.Connect(server.Name);
        next.Send("next"u8);
        (TransportReceiver nextRx, _) = AcceptOrFail(server);
        using (nextRx)
        {
            Assert.Equal("next"u8.ToArray(), nextRx.ReceiveBytes());
        }
    }

    /// <summary>A hang-up makes a client readable, so it is the one client a one-shot server returns.</summary>
    [Fact]
    public void OneShot_ClientHangsUpWithoutSending_ConsumesTheOneShot()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        T.Connect(server.Name).Dispose();
        (TransportReceiver rx, _) = AcceptOrFail(server);
        using (rx)
        {
            rx.AssertClosed();
        }

        IpcException error = Assert.Throws<IpcException>(() => T.Connect(server.Name));
        Assert.Equal(Interop.Errno.ENOENT, error.Errno);
        Assert.Throws<InvalidOperationException>(() => server.Accept(TimeSpan.Zero));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OneShot_AfterAccept_ClosesEveryOtherPendingClient(bool useAsync)
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TransportSender admittedEarlier = T.Connect(server.Name);
        Assert.Null(server.Accept(TimeSpan.Zero)); // now pending inside the server
        using TransportSender inBacklog = T.Connect(server.Name); // not yet seen by the server
        using TransportSender talker = T.Connect(server.Name);
        talker.Send("talker"u8);

        (TransportReceiver rx, _) = useAsync
            ? await server.AcceptAsync(CancellationToken.None).WithTimeout()
            : AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal("talker"u8.ToArray(), rx.ReceiveBytes());
            Assert.Throws<IpcDisconnectedException>(() => admittedEarlier.Send("too late"u8));
            Assert.Throws<IpcDisconnectedException>(() => inBacklog.Send("too late"u8));
            await Assert.ThrowsAsync<IpcDisconnectedException>(async () => await inBacklog.SendAsync("too late"u8.ToArray(), default, default, CancellationToken.None));

            // The accepted client is unaffected.
            talker.Send("still here"u8);
            Assert.Equal("still here"u8.ToArray(), rx.ReceiveBytes());
            rx.AssertEmpty();
        }
    }

    [Fact]
    public void OneShot_TwoClientsSentBeforeAccept_OneIsReturnedTheOtherIsClosedUnread()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TransportSender a = T.Connect(server.Name);
        using TransportSender b = T.Connect(server.Name);
        a.Send("a"u8);
        b.Send("b"u8);
        (TransportReceiver rx, _) = AcceptOrFail(server);
        using (rx)
        {
            byte[] first = rx.ReceiveBytes();
            Assert.True(first.SequenceEqual("a"u8.ToArray()) || first.SequenceEqual("b"u8.ToArray()));
            TransportSender loser = first.SequenceEqual("a"u8.ToArray()) ? b : a;
            Assert.Throws<IpcDisconnectedException>(() => loser.Send("x"u8));

            // The loser's message is not delivered anywhere.
            rx.AssertEmpty();
        }
    }

    /// <summary>
    /// The filter runs on connect, before the server reads anything: a refused client's message (sent before the
    /// server looked at it) is still unread in the kernel when the filter runs, and is dropped unread.
    /// </summary>
    [Fact]
    public void Filter_RunsBeforeAnyByteIsRead_RefusedClientsDataIsNeverSeen()
    {
        using TransportServer server = T.CreateServer(oneShot: false);
        using TransportSender refused = T.Connect(server.Name);
        refused.Send("secret"u8);
        Assert.True(UnreadBytes(refused) > 0);

        var unreadWhenFiltered = new List<int>();
        server.Filter = _ =>
        {
            unreadWhenFiltered.Add(UnreadBytes(refused));
            return unreadWhenFiltered.Count > 1;
        };

        // Readable, but refused: never returned.
        Assert.Null(server.Accept(TimeSpan.Zero));
        Assert.Single(unreadWhenFiltered);
        Assert.True(unreadWhenFiltered[0] > 0, "the refused client's message was read before the filter ran");

        // The server closed the socket with the message still queued: the kernel reports ECONNRESET, not EPIPE.
        IpcDisconnectedException error = Assert.Throws<IpcDisconnectedException>(() => refused.Send("again"u8));
        Assert.Equal(Interop.Errno.ECONNRESET, error.Errno);

        // An admitted client's bytes stay unread until its receiver reads them (so the probe above means what it says).
        using TransportSender admitted = T.Connect(server.Name);
        admitted.Send("hello"u8);
        (TransportReceiver rx, _) = AcceptOrFail(server);
        using (rx)
        {
            Assert.Equal(2, unreadWhenFiltered.Count);
            Assert.True(UnreadBytes(admitted) > 0);
            Assert.Equal("hello"u8.ToArray(), rx.ReceiveBytes());
            Assert.Equal(0, UnreadBytes(admitted));
            rx.AssertEmpty();
        }
    }

    /// <summary>
    /// SIOCOUTQ on a client's socket: what the client sent that the server has not read yet (AF_UNIX counts the
    /// queued datagrams' memory, so only zero versus non-zero is meaningful).
    /// </summary>
    private static unsafe int UnreadBytes(TransportSender sender)
    {
        const nuint SIOCOUTQ = 0x5411;
        int queued;
        Assert.Equal(0, Interop.Ioctl(sender.Fd(), SIOCOUTQ, &queued));
        return queued;
    }

    private sealed class FilterFailure : Exception
    {
    }
}
