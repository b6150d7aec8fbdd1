using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>
/// A server that one client connects to by <see cref="Name"/> (for example a child process that received the
/// name in an environment variable). Accepting returns a receiver of that client's messages and its first
/// message; the name then disappears and later connects fail.
/// </summary>
/// <typeparam name="T">The message type the client sends.</typeparam>
/// <remarks>
/// On Linux the name is a socket path inside a fresh directory of mode 0700 (under <c>$XDG_RUNTIME_DIR</c> or
/// the temp directory), removed once a client is accepted or the server is disposed. A client that connects and
/// sends nothing is closed when its first-message deadline passes (<c>firstMessageTimeout</c>, default
/// <see cref="Ipc.DefaultFirstMessageTimeout"/>), or earlier when silent clients fill the pending set; silent clients
/// never keep out the client that sends its first message as it connects.
/// </remarks>
public sealed class IpcOneShotServer<T> : IDisposable
{
    private readonly TransportServer _server;
    private readonly IpcSerializerOptions _options;
    private int _used;

    /// <summary>Creates the server and publishes its name.</summary>
    /// <param name="options">Serialization options; <see cref="IpcSerializerOptions.Default"/> when null.</param>
    /// <param name="firstMessageTimeout">How long a connected client may stay silent before its first message, then it
    /// is closed; <see cref="Ipc.DefaultFirstMessageTimeout"/> (5 s) when null; <see cref="Timeout.InfiniteTimeSpan"/>
    /// never closes a silent client (use it only when every client is trusted).</param>
    /// <exception cref="IpcException">The OS refused.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="firstMessageTimeout"/> is zero or negative (other than infinite).</exception>
    public IpcOneShotServer(IpcSerializerOptions? options = null, TimeSpan? firstMessageTimeout = null)
    {
        TimeSpan deadline = Ipc.CheckFirstMessageTimeout(firstMessageTimeout, nameof(firstMessageTimeout));
        _options = options ?? IpcSerializerOptions.Default;
        _server = IpcTransports.Current.CreateServer(oneShot: true);
        _server.FirstMessageTimeout = deadline;
        Name = _server.Name;
    }

    /// <summary>The name a client passes to <see cref="IpcSender{T}.Connect(string)"/>.</summary>
    public string Name { get; }

    /// <summary>Waits for the client and its first message.</summary>
    /// <returns>The receiver of the client's messages and its first message.</returns>
    /// <exception cref="IpcDisconnectedException">The client hung up before sending anything.</exception>
    /// <exception cref="IpcSerializationException">The first message was malformed.</exception>
    /// <exception cref="InvalidOperationException">The server already accepted.</exception>
    /// <exception cref="ObjectDisposedException">The server was disposed, also while this call was waiting.</exception>
    public (IpcReceiver<T> Receiver, T FirstMessage) Accept() => AcceptCore(Timeout.InfiniteTimeSpan);

    /// <summary>Waits up to <paramref name="timeout"/> for the client and its first message.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <returns>The receiver and the first message.</returns>
    /// <exception cref="TimeoutException">Nobody connected and sent a message in time (the server stays usable).</exception>
    /// <exception cref="IpcDisconnectedException">The client hung up before sending anything.</exception>
    public (IpcReceiver<T> Receiver, T FirstMessage) Accept(TimeSpan timeout) => AcceptCore(timeout);

    /// <summary>Waits asynchronously for the client and its first message.</summary>
    /// <param name="cancellationToken">Cancels the wait (the server stays usable).</param>
    /// <returns>The receiver and the first message.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async Task<(IpcReceiver<T> Receiver, T FirstMessage)> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUsed();
        (TransportReceiver end, _) = await _server.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return Complete(end, TimeSpan.Zero);
    }

    /// <summary>
    /// Stops listening and removes the name. An accept waiting on another thread is released with
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _server.Dispose();

    private (IpcReceiver<T>, T) AcceptCore(TimeSpan timeout)
    {
        ThrowIfUsed();
        (TransportReceiver Receiver, PeerCredentials Peer)? client = _server.Accept(timeout)
            ?? throw new TimeoutException($"No client connected to the IPC server '{Name}' and sent a message within {timeout}.");
        return Complete(client.Value.Receiver, TimeSpan.Zero);
    }

    private (IpcReceiver<T>, T) Complete(TransportReceiver end, TimeSpan wait)
    {
        Interlocked.Exchange(ref _used, 1);
        var receiver = new IpcReceiver<T>(end, _options);
        try
        {
            // The transport returns a client once it is readable: its first message is already there.
            if (!receiver.TryReceive(wait, out T? first))
            {
                throw new IpcException("The client connected but its first message is not there.");
            }

            return (receiver, first);
        }
        catch
        {
            receiver.Dispose();
            throw;
        }
    }

    private void ThrowIfUsed()
    {
        if (Volatile.Read(ref _used) != 0)
        {
            throw new InvalidOperationException("This one-shot server has already accepted its client.");
        }
    }
}
