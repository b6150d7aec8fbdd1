using System;
using System.Threading;
using IpcChannel.Serialization;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>A receiver whose message type is erased; <see cref="To{T}()"/> gives it a type again (unchecked).</summary>
/// <remarks>Can travel inside messages and join an <see cref="IpcReceiverSet"/> through <see cref="IpcReceiverSet.AddOpaque"/>.</remarks>
public sealed class OpaqueIpcReceiver : IDisposable, IIpcChannelHandle
{
    private readonly IpcSerializerOptions _options;
    private TransportReceiver? _end;

    internal OpaqueIpcReceiver(TransportReceiver end, IpcSerializerOptions options)
    {
        _end = end;
        _options = options;
    }

    /// <summary>The serialization options messages of this receiver are read with.</summary>
    internal IpcSerializerOptions Options => _options;

    /// <summary>Re-types the receiver; this object is moved into the result.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <returns>The typed receiver.</returns>
    /// <exception cref="ObjectDisposedException">Already converted, moved or disposed.</exception>
    public IpcReceiver<T> To<T>() => new(Take(), _options);

    /// <summary>Re-types the receiver with other serialization options (e.g. a resolver for this channel's message type,
    /// or another largest message size); this object is moved into the result.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="options">The options the typed receiver deserializes with.</param>
    /// <returns>The typed receiver.</returns>
    /// <exception cref="ObjectDisposedException">Already converted, moved or disposed.</exception>
    public IpcReceiver<T> To<T>(IpcSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(Take(), options);
    }

    /// <summary>Re-types the receiver as a bytes receiver; this object is moved into the result.</summary>
    /// <returns>The bytes receiver.</returns>
    public IpcBytesReceiver ToBytes() => new(Take(), _options);

    /// <summary>Closes the receiver.</summary>
    public void Dispose() => Interlocked.Exchange(ref _end, null)?.Dispose();

    TransportChannelEnd IIpcChannelHandle.EndForTransfer => End;

    void IIpcChannelHandle.CompleteMove() => Dispose();

    /// <summary>Moves the transport end out.</summary>
    internal TransportReceiver Take() =>
        Interlocked.Exchange(ref _end, null) ?? throw new ObjectDisposedException(nameof(OpaqueIpcReceiver), "This receiver was disposed, converted, or moved.");

    private TransportReceiver End => _end ?? throw new ObjectDisposedException(nameof(OpaqueIpcReceiver), "This receiver was disposed, converted, or moved.");
}
