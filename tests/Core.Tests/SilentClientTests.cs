using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>
/// An attacker opens many raw connections to a server's name and never says anything (as a worker did to the
/// supervisor's bootstrap server): a good client must still be accepted, within the first-message deadline.
/// </summary>
public class SilentClientTests
{
    /// <summary>More than the Linux server's pending set (256) can hold, fewer than it plus the listen backlog (64).</summary>
    private const int SilentClients = 300;

    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(1);

    [Fact(Timeout = 120_000)]
    public async Task Server_300SilentClients_GoodClientIsAccepted_AndTheSilentOnesAreClosed()
    {
        using var server = new IpcServer<int>(firstMessageTimeout: s_deadline);
        Task<(IpcReceiver<int> Receiver, int First, IpcPeer Peer)> accepting = server.AcceptAsync();
        List<Socket> silent = ConnectSilently(server.Name);
        try
        {
            using IpcSender<int> good = IpcSender<int>.Connect(server.Name);
            good.Send(42);

            (IpcReceiver<int> rx, int first, _) = await accepting.WithTimeout(TimeSpan.FromSeconds(60));
            rx.Dispose();
            Assert.Equal(42, first);

            // The oldest silent client made room for a newer one; the newest is closed at its deadline while the
            // server accepts; and the server goes on accepting.
            Assert.True(WaitForEndOfFile(silent[0], TimeSpan.FromSeconds(60)), "the oldest silent client was never closed");
            Task<(IpcReceiver<int> Receiver, int First, IpcPeer Peer)> next = server.AcceptAsync();
            Assert.True(WaitForEndOfFile(silent[^1], TimeSpan.FromSeconds(60)), "the newest silent client was never closed");
            using IpcSender<int> later = IpcSender<int>.Connect(server.Name);
            later.Send(7);
            (IpcReceiver<int> rx2, int second, _) = await next.WithTimeout(TimeSpan.FromSeconds(60));
            rx2.Dispose();
            Assert.Equal(7, second);
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Server_300SilentClients_NoDeadline_GoodClientIsNotAcceptedWhileTheyHold()
    {
        // The twin: without a first-message deadline the silent clients fill the pending set and the backlog.
        using var server = new IpcServer<int>(firstMessageTimeout: Timeout.InfiniteTimeSpan);
        Task<(IpcReceiver<int> Receiver, int First, IpcPeer Peer)> accepting = server.AcceptAsync();
        List<Socket> silent = ConnectSilently(server.Name);
        try
        {
            using IpcSender<int> good = IpcSender<int>.Connect(server.Name);
            good.Send(42);

            await Assert.ThrowsAsync<TimeoutException>(() => accepting.WaitAsync(TimeSpan.FromSeconds(3)));
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }

        // Once they let go, the good client is accepted.
        (IpcReceiver<int> rx, int first, _) = await accepting.WithTimeout(TimeSpan.FromSeconds(60));
        rx.Dispose();
        Assert.Equal(42, first);
    }

    [Fact]
    public void OneShot_300SilentClients_GoodClientIsAccepted()
    {
        using var server = new IpcOneShotServer<int>(firstMessageTimeout: s_deadline);
        var silent = new List<Socket>();
        try
        {
            for (int i = 0; i < SilentClients; i++)
            {
                silent.Add(ConnectOne(server.Name));
                if (i % 16 == 15)
                {
                    // Nobody sent anything: the server admits what waits in its backlog and finds no client.
                    Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.Zero));
                }
            }

            using IpcSender<int> good = IpcSender<int>.Connect(server.Name);
            good.Send(42);
            (IpcReceiver<int> rx, int first) = server.Accept(TimeSpan.FromSeconds(60));
            rx.Dispose();
            Assert.Equal(42, first);
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Server_NonPositiveFirstMessageTimeout_Throws(int milliseconds)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new IpcServer<int>(firstMessageTimeout: TimeSpan.FromMilliseconds(milliseconds)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IpcOneShotServer<int>(firstMessageTimeout: TimeSpan.FromMilliseconds(milliseconds)));
    }

    /// <summary>Connects <see cref="SilentClients"/> raw sockets that never send (an accept must be running).</summary>
    private static List<Socket> ConnectSilently(string name)
    {
        var sockets = new List<Socket>(SilentClients);
        try
        {
            for (int i = 0; i < SilentClients; i++)
            {
                sockets.Add(ConnectOne(name));
            }
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }

        return sockets;
    }

    private static Socket ConnectOne(string name)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(name));
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return socket;
    }

    /// <summary>Whether the server closed this client (a read sees end of file) within <paramref name="timeout"/>.</summary>
    private static bool WaitForEndOfFile(Socket socket, TimeSpan timeout)
    {
        if (!socket.Poll(timeout, SelectMode.SelectRead))
        {
            return false;
        }

        return socket.Receive(new byte[16]) == 0;
    }
}
