using System;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Serialization;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>
/// The sending end of a typed IPC channel. It can be sent inside messages (at any depth) to other
/// processes, where it arrives as a working sender.
/// </summary>
/// <typeparam name="T">The message type, serialized with MessagePack.</typeparam>
/// <remarks>
/// <para>Thread-safe: many threads may send at once; every message arrives whole and never interleaved.</para>
/// <para>Sending this sender inside a message moves it: after the send succeeds, this instance throws
/// <see cref="ObjectDisposedException"/>. Use <see cref="Clone"/> to keep one.</para>
/// <para>A send blocks while the channel's kernel buffer is full (the receiver is slow); messages larger than
/// 128 KiB travel through a sealed memfd and never wait for the receiver to read them.</para>
/// </remarks>
public sealed class IpcSender<T> : IDisposable, IIpcChannelHandle
{
    private TransportSender? _end;

    // Registers this type's formatter as compiled code the first time the type is used (see IpcHandleResolver):
    // what an ahead-of-time compiled process needs to send or receive it inside a message.
    static IpcSender() => IpcChannel.Serialization.IpcHandleResolver.Register(new IpcChannel.Serialization.IpcSenderFormatter<T>());

    internal IpcSender(TransportSender end, IpcSerializerOptions options)
    {
        _end = end;
        Options = options;
    }

    /// <summary>The serialization options of this sender.</summary>
    public IpcSerializerOptions Options { get; }

    /// <summary>Connects to an <see cref="IpcOneShotServer{T}"/> or <see cref="IpcServer{T}"/> by its name.</summary>
    /// <param name="name">The server's <c>Name</c>, typically received in an environment variable.</param>
    /// <returns>A sender whose first message completes the server's accept.</returns>
    /// <exception cref="IpcException">No such server, refused, or permission denied; <see cref="IpcException.Errno"/> has the OS error.</exception>
    public static IpcSender<T> Connect(string name) => Connect(name, IpcSerializerOptions.Default);

    /// <summary>Connects to a server by its name, with serialization options.</summary>
    /// <param name="name">The server's name.</param>
    /// <param name="options">Serialization options.</param>
    /// <returns>The connected sender.</returns>
    /// <exception cref="IpcException">No such server, refused, or permission denied.</exception>
    public static IpcSender<T> Connect(string name, IpcSerializerOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        return new IpcSender<T>(IpcTransports.Current.Connect(name), options);
    }

    /// <summary>
    /// Takes over a socket already connected to an <see cref="IpcOneShotServer{T}"/> or <see cref="IpcServer{T}"/>
    /// (a sandboxed worker's connection, opened before it confined itself) as a sender.
    /// </summary>
    /// <param name="socket">The connected socket; owned (and disposed) by this call.</param>
    /// <param name="options">Serialization options.</param>
    /// <returns>The sender; its first message completes the server's accept.</returns>
    /// <exception cref="IpcException">The descriptor is not a socket an IPC server accepts.</exception>
    /// <exception cref="PlatformNotSupportedException">The transport has no socket descriptors (macOS).</exception>
    internal static IpcSender<T> AdoptConnection(System.Runtime.InteropServices.SafeHandle socket, IpcSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(options);
        return new IpcSender<T>(IpcTransports.Current.AdoptConnection(socket), options);
    }

    /// <summary>Sends a message; blocks while the channel's buffer is full.</summary>
    /// <param name="value">The message. Handles inside it are moved to the receiving side.</param>
    /// <exception cref="IpcDisconnectedException">Every receiver of the channel is gone.</exception>
    /// <exception cref="IpcSerializationException">The value cannot be serialized; nothing was sent or moved.</exception>
    /// <exception cref="IpcException">The OS refused the send; nothing was sent or moved.</exception>
    /// <exception cref="ObjectDisposedException">This sender, or a handle inside the value, was disposed or moved.</exception>
    public void Send(T value) => MessageCodec.Send(End, Options, value);

    /// <summary>Sends a message, waiting asynchronously while the channel's buffer is full.</summary>
    /// <param name="value">The message.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled send sent and moved nothing.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    /// <exception cref="IpcDisconnectedException">Every receiver of the channel is gone.</exception>
    /// <exception cref="IpcSerializationException">The value cannot be serialized.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public ValueTask SendAsync(T value, CancellationToken cancellationToken = default) =>
        MessageCodec.SendAsync(End, Options, value, cancellationToken);

    /// <summary>Makes another sender for the same channel (its own OS handle).</summary>
    /// <returns>The clone.</returns>
    /// <exception cref="ObjectDisposedException">This sender was disposed or moved.</exception>
    public IpcSender<T> Clone() => new(End.Clone(), Options);

    /// <summary>Erases the message type; this sender is moved into the result.</summary>
    /// <returns>The opaque sender.</returns>
    public OpaqueIpcSender ToOpaque() => new(Take(), Options);

    /// <summary>Closes this sender. When the last sender of a channel closes, its receiver sees the disconnection after the queued messages.</summary>
    public void Dispose() => Interlocked.Exchange(ref _end, null)?.Dispose();

    /// <inheritdoc/>
    public override string ToString() => _end is null ? $"IpcSender<{typeof(T).Name}> (closed)" : $"IpcSender<{typeof(T).Name}>";

    TransportChannelEnd IIpcChannelHandle.EndForTransfer => End;

    void IIpcChannelHandle.CompleteMove() => Dispose();

    private TransportSender End => _end ?? throw new ObjectDisposedException(GetType().Name, "This sender was disposed, or moved into a message.");

    private TransportSender Take() => Interlocked.Exchange(ref _end, null) ?? throw new ObjectDisposedException(GetType().Name, "This sender was disposed, or moved into a message.");
}
