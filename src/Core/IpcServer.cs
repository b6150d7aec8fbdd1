using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>
/// A server that accepts any number of clients by <see cref="Name"/>. Each accepted client gives a receiver
/// of its messages, its first message and its kernel-reported identity (<see cref="IpcPeer"/>).
/// </summary>
/// <typeparam name="T">The message type clients send.</typeparam>
/// <remarks>
/// The filter refuses a peer before anything of it is read. A refused client, one that hangs up without a
/// message, or one whose first message is malformed is closed and skipped: it never stops the server from
/// accepting the next client. A client that connects and stays silent does not block others either: it is closed
/// when its first-message deadline passes (<c>firstMessageTimeout</c>, default
/// <see cref="Ipc.DefaultFirstMessageTimeout"/>), and when the clients waiting for their first message fill the
/// server's pending set (256 on Linux), the oldest silent one is closed early to make room. So any number of silent
/// clients never delays a client that sends its first message as it connects; one that waits longer than the
/// deadline is closed (its sends then fail as disconnected).
/// </remarks>
public sealed class IpcServer<T> : IDisposable
{
    private readonly TransportServer _server;
    private readonly IpcSerializerOptions _options;

    /// <summary>Creates the server and publishes its name.</summary>
    /// <param name="filter">Decides from the peer's pid/uid/gid whether to accept it; null accepts everyone.</param>
    /// <param name="options">Serialization options; <see cref="IpcSerializerOptions.Default"/> when null.</param>
    /// <param name="firstMessageTimeout">How long an admitted client may stay silent before its first message, then it
    /// is closed; <see cref="Ipc.DefaultFirstMessageTimeout"/> (5 s) when null; <see cref="Timeout.InfiniteTimeSpan"/>
    /// never closes a silent client (then silent clients can fill the pending set and keep new ones waiting: use it
    /// only when every client is trusted).</param>
    /// <exception cref="IpcException">The OS refused.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="firstMessageTimeout"/> is zero or negative (other than infinite).</exception>
    public IpcServer(Func<IpcPeer, bool>? filter = null, IpcSerializerOptions? options = null, TimeSpan? firstMessageTimeout = null)
    {
        TimeSpan deadline = Ipc.CheckFirstMessageTimeout(firstMessageTimeout, nameof(firstMessageTimeout));
        _options = options ?? IpcSerializerOptions.Default;
        _server = IpcTransports.Current.CreateServer(oneShot: false);
        _server.FirstMessageTimeout = deadline;
        if (filter is not null)
        {
            _server.Filter = peer => filter(ToPeer(peer));
        }

        Name = _server.Name;
    }

    /// <summary>The name clients pass to <see cref="IpcSender{T}.Connect(string)"/>.</summary>
    public string Name { get; }

    /// <summary>Waits for the next client with a valid first message, for as long as it takes.</summary>
    /// <returns>The client's receiver, first message and identity.</returns>
    /// <exception cref="ObjectDisposedException">The server was disposed, also while this call was waiting.</exception>
    public (IpcReceiver<T> Receiver, T FirstMessage, IpcPeer Peer) Accept() => Accept(Timeout.InfiniteTimeSpan);

    /// <summary>Waits up to <paramref name="timeout"/> for the next client with a valid first message.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <returns>The client's receiver, first message and identity.</returns>
    /// <exception cref="TimeoutException">No valid client in time.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <exception cref="ObjectDisposedException">The server was disposed, also while this call was waiting.</exception>
    public (IpcReceiver<T> Receiver, T FirstMessage, IpcPeer Peer) Accept(TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        }

        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            // Infinite stays infinite: only a finite timeout counts down (and stops at zero).
            TimeSpan remaining = timeout == Timeout.InfiniteTimeSpan
                ? Timeout.InfiniteTimeSpan
                : TimeSpan.FromTicks(Math.Max(0, (timeout - Stopwatch.GetElapsedTime(start)).Ticks));

            (TransportReceiver Receiver, PeerCredentials Peer)? client = _server.Accept(remaining)
                ?? throw new TimeoutException($"No client connected to the IPC server '{Name}' and sent a valid message within {timeout}.");
            if (TryComplete(client.Value.Receiver, client.Value.Peer, out (IpcReceiver<T>, T, IpcPeer) accepted))
            {
                return accepted;
            }
        }
    }

    /// <summary>Waits asynchronously for the next client with a valid first message.</summary>
    /// <param name="cancellationToken">Cancels the wait; no client is lost by cancelling.</param>
    /// <returns>The client's receiver, first message and identity.</returns>
    public async Task<(IpcReceiver<T> Receiver, T FirstMessage, IpcPeer Peer)> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            (TransportReceiver receiver, PeerCredentials peer) = await _server.AcceptAsync(cancellationToken).ConfigureAwait(false);
            if (TryComplete(receiver, peer, out (IpcReceiver<T>, T, IpcPeer) accepted))
            {
                return accepted;
            }
        }
    }

    /// <summary>
    /// Stops listening, removes the name and closes clients not yet accepted. An <see cref="Accept()"/> or
    /// <see cref="AcceptAsync"/> waiting on another thread is released with <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _server.Dispose();

    private bool TryComplete(TransportReceiver end, PeerCredentials peer, out (IpcReceiver<T>, T, IpcPeer) accepted)
    {
        var receiver = new IpcReceiver<T>(end, _options);
        try
        {
            if (receiver.TryReceive(out T? first))
            {
                accepted = (receiver, first, ToPeer(peer));
                return true;
            }
        }
        catch (IpcException)
        {
            // Hung up without a message, or a malformed first message: skip this client.
        }

        receiver.Dispose();
        accepted = default;
        return false;
    }

    private static IpcPeer ToPeer(PeerCredentials peer) => new(peer.Pid, peer.Uid, peer.Gid);
}
