using System;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport;

/// <summary>The credentials of a connected peer, as reported by the kernel.</summary>
/// <param name="Pid">The peer's process id.</param>
/// <param name="Uid">The peer's effective user id.</param>
/// <param name="Gid">The peer's effective group id.</param>
internal readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid);

/// <summary>
/// A listening server with a name that other processes pass to <see cref="IpcTransport.Connect"/>. Each
/// accepted client becomes a receiver of the messages that client sends.
/// </summary>
/// <remarks>
/// Accept returns a client only once it has something to read (its first message, or its hang-up), so a
/// client that connects and stays silent never blocks the server from accepting the next one. Filtered-out
/// clients are closed before anything of theirs is read. A one-shot server returns one client, then stops
/// listening, removes its name and closes every other pending client.
/// </remarks>
internal abstract class TransportServer : IDisposable
{
    /// <summary>The name clients connect with (opaque; a socket path on Linux).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Decides, from the kernel's credentials and before a byte is read, whether a client is accepted.
    /// A refused client's connection is closed and the server goes on accepting. Null accepts everyone.
    /// </summary>
    public Func<PeerCredentials, bool>? Filter { get; set; }

    /// <summary>
    /// How long an admitted client may stay silent before its first message; then it is closed (evicted), and when
    /// the set of clients waiting for their first message is full, the oldest silent one is evicted early to make
    /// room, so silent clients never keep a new one out. <see cref="Timeout.InfiniteTimeSpan"/> (the transport's
    /// default) never evicts: a silent client keeps its place until it sends or hangs up. A transport that hands
    /// clients out at connect time, with no such set (macOS: a client arrives with its hello), has nothing to evict.
    /// </summary>
    public TimeSpan FirstMessageTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Waits up to <paramref name="timeout"/> for a client.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <returns>The client's receiver and credentials, or <see langword="null"/> when the timeout passed.</returns>
    /// <exception cref="InvalidOperationException">A one-shot server already accepted its client.</exception>
    public abstract (TransportReceiver Receiver, PeerCredentials Peer)? Accept(TimeSpan timeout);

    /// <summary>Waits asynchronously for a client.</summary>
    /// <param name="cancellationToken">Cancels the wait; no client is lost by cancelling.</param>
    /// <returns>The client's receiver and credentials.</returns>
    public abstract ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> AcceptAsync(CancellationToken cancellationToken);

    /// <summary>Stops listening and removes the name. Idempotent.</summary>
    public abstract void Dispose();
}
