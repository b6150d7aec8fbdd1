using System;

namespace IpcChannel.Transport.Linux;

/// <summary>A socket that arrived in a message; it becomes a sender or a receiver when claimed.</summary>
internal sealed class LinuxReceivedChannel : TransportReceivedChannel
{
    private SafeFdHandle? _socket;

    /// <summary>Takes ownership of a received socket.</summary>
    /// <param name="socket">The socket.</param>
    public LinuxReceivedChannel(SafeFdHandle socket) => _socket = socket;

    /// <inheritdoc/>
    /// <remarks>The socket is checked at the sender's first send (a sender that is only passed on costs nothing).</remarks>
    public override TransportSender ToSender() => new LinuxSender(Take(), verified: false);

    /// <inheritdoc/>
    /// <exception cref="IpcSerializationException">The peer put a descriptor that is not an AF_UNIX SOCK_SEQPACKET socket in this slot (it is closed).</exception>
    public override TransportReceiver ToReceiver()
    {
        SafeFdHandle socket = Take();
        try
        {
            Frames.CheckIsChannelSocket(socket, received: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new LinuxReceiver(socket);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _socket?.Dispose();
        _socket = null;
    }

    private SafeFdHandle Take()
    {
        SafeFdHandle socket = _socket ?? throw new ObjectDisposedException(nameof(LinuxReceivedChannel), "This received channel was already converted or closed.");
        _socket = null;
        return socket;
    }
}
