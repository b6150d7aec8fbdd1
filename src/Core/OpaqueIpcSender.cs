using System;
using System.Threading;
using IpcChannel.Serialization;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>A sender whose message type is erased; <see cref="To{T}()"/> gives it a type again (unchecked).</summary>
/// <remarks>Can travel inside messages; sending it moves it.</remarks>
public sealed class OpaqueIpcSender : IDisposable, IIpcChannelHandle
{
    private readonly IpcSerializerOptions _options;
    private TransportSender? _end;

    internal OpaqueIpcSender(TransportSender end, IpcSerializerOptions options)
    {
        _end = end;
        _options = options;
    }

    /// <summary>Re-types the sender; this object is moved into the result. The type is not checked against the receiver's.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <returns>The typed sender.</returns>
    /// <exception cref="ObjectDisposedException">Already converted, moved or disposed.</exception>
    public IpcSender<T> To<T>() => new(Take(), _options);

    /// <summary>Re-types the sender with other serialization options (e.g. a resolver for this channel's message type);
    /// this object is moved into the result.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="options">The options the typed sender serializes with.</param>
    /// <returns>The typed sender.</returns>
    /// <exception cref="ObjectDisposedException">Already converted, moved or disposed.</exception>
    public IpcSender<T> To<T>(IpcSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(Take(), options);
    }

    /// <summary>Re-types the sender as a bytes sender; this object is moved into the result.</summary>
    /// <returns>The bytes sender.</returns>
    public IpcBytesSender ToBytes() => new(Take());

    /// <summary>Makes another opaque sender for the same channel.</summary>
    /// <returns>The clone.</returns>
    public OpaqueIpcSender Clone() => new(End.Clone(), _options);

    /// <summary>Closes the sender.</summary>
    public void Dispose() => Interlocked.Exchange(ref _end, null)?.Dispose();

    TransportChannelEnd IIpcChannelHandle.EndForTransfer => End;

    void IIpcChannelHandle.CompleteMove() => Dispose();

    private TransportSender End => _end ?? throw new ObjectDisposedException(nameof(OpaqueIpcSender), "This sender was disposed, converted, or moved into a message.");

    private TransportSender Take() => Interlocked.Exchange(ref _end, null) ?? throw new ObjectDisposedException(nameof(OpaqueIpcSender), "This sender was disposed, converted, or moved into a message.");
}
