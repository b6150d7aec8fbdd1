using System;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Serialization;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>The sending end of a raw bytes channel: no serializer, no allocation per message.</summary>
/// <remarks>Thread-safe. Can travel inside messages; sending it moves it.</remarks>
public sealed class IpcBytesSender : IDisposable, IIpcChannelHandle
{
    private TransportSender? _end;

    internal IpcBytesSender(TransportSender end) => _end = end;

    /// <summary>Sends the bytes as one message; blocks while the channel's buffer is full.</summary>
    /// <param name="data">The message (any length up to 2 GiB − 1; larger than 128 KiB travels in a sealed memfd).</param>
    /// <exception cref="IpcDisconnectedException">Every receiver is gone.</exception>
    /// <exception cref="IpcException">The OS refused the send.</exception>
    /// <exception cref="ObjectDisposedException">This sender was disposed or moved.</exception>
    public void Send(ReadOnlySpan<byte> data) => End.Send(data, default, default);

    /// <summary>Sends the bytes, waiting asynchronously while the channel's buffer is full.</summary>
    /// <param name="data">The message; must not change until the task completes.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled send sent nothing.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    /// <exception cref="IpcDisconnectedException">Every receiver is gone.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        End.SendAsync(data, default, default, cancellationToken);

    /// <summary>Makes another sender for the same channel.</summary>
    /// <returns>The clone.</returns>
    public IpcBytesSender Clone() => new(End.Clone());

    /// <summary>Closes this sender.</summary>
    public void Dispose() => Interlocked.Exchange(ref _end, null)?.Dispose();

    TransportChannelEnd IIpcChannelHandle.EndForTransfer => End;

    void IIpcChannelHandle.CompleteMove() => Dispose();

    private TransportSender End => _end ?? throw new ObjectDisposedException(nameof(IpcBytesSender), "This sender was disposed, or moved into a message.");
}
