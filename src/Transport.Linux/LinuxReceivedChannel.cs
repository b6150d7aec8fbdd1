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
    public override TransportSender ToSender() => new LinuxSender(Take());

    /// <inheritdoc/>
    public override TransportReceiver ToReceiver() => new LinuxReceiver(Take());

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
