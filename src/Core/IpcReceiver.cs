using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Serialization;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>
/// The receiving end of a typed IPC channel. It can be sent inside messages to other processes, where it
/// arrives as a working receiver (with the messages still queued in it).
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
/// <remarks>
/// <para>One reader at a time, enforced: a receive that starts while another one is in progress on another thread
/// (including an asynchronous receive that has not completed) throws <see cref="InvalidOperationException"/> at
/// once and consumes nothing, so a message is never split or lost between two readers.</para>
/// <para><see cref="Dispose"/> releases a receive blocked on another thread (synchronous or asynchronous): it
/// throws <see cref="ObjectDisposedException"/>, or returns a message it had already taken whole.</para>
/// <para>Every message sent before the last sender closed (or its process died) is
/// delivered, in order; then receives throw <see cref="IpcDisconnectedException"/> (and
/// <see cref="ReadAllAsync"/> ends), for good.</para>
/// <para>A malformed message (bad bytes, wrong type, bad handle index or count) raises
/// <see cref="IpcSerializationException"/> for that receive only; its handles are closed and the receiver
/// stays usable for the next message.</para>
/// </remarks>
public sealed class IpcReceiver<T> : IDisposable, IIpcChannelHandle
{
    private TransportReceiver? _end;

    // Registers this type's formatter as compiled code the first time the type is used (see IpcHandleResolver):
    // what an ahead-of-time compiled process needs to send or receive it inside a message.
    static IpcReceiver() => IpcChannel.Serialization.IpcHandleResolver.Register(new IpcChannel.Serialization.IpcReceiverFormatter<T>());

    internal IpcReceiver(TransportReceiver end, IpcSerializerOptions options)
    {
        end.MaxMessageSize = options.MaxMessageSize;
        _end = end;
        Options = options;
    }

    /// <summary>The serialization options of this receiver.</summary>
    public IpcSerializerOptions Options { get; }

    /// <summary>Waits for the next message.</summary>
    /// <returns>The message.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="IpcSerializationException">The message was malformed; it was discarded.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public T Receive()
    {
        TryReceiveCore(Timeout.InfiniteTimeSpan, out T? value);
        return value!;
    }

    /// <summary>Takes a message if one is queued, without waiting.</summary>
    /// <param name="value">The message, when the method returns <see langword="true"/>.</param>
    /// <returns><see langword="false"/> when nothing is queued.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="IpcSerializationException">The message was malformed; it was discarded.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public bool TryReceive([MaybeNullWhen(false)] out T value) => TryReceiveCore(TimeSpan.Zero, out value);

    /// <summary>Waits up to <paramref name="timeout"/> for a message.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="value">The message, when the method returns <see langword="true"/>.</param>
    /// <returns><see langword="false"/> when the timeout passed with nothing queued.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="IpcSerializationException">The message was malformed; it was discarded.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public bool TryReceive(TimeSpan timeout, [MaybeNullWhen(false)] out T value) => TryReceiveCore(timeout, out value);

    /// <summary>Waits asynchronously (readiness-driven, no thread blocked) for the next message.</summary>
    /// <param name="cancellationToken">Cancels the wait; a cancelled receive consumed nothing.</param>
    /// <returns>The message.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="IpcSerializationException">The message was malformed; it was discarded.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<T> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        (bool received, T? value) = await ReceiveAsyncCore(cancellationToken).ConfigureAwait(false);
        return received ? value! : throw Disconnected();
    }

    /// <summary>Reads every message until the channel is disconnected, then ends.</summary>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The messages, in order.</returns>
    /// <exception cref="IpcSerializationException">A message was malformed (the enumeration can be restarted).</exception>
    public async IAsyncEnumerable<T> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            (bool received, T? value) = await ReceiveAsyncCore(cancellationToken).ConfigureAwait(false);
            if (!received)
            {
                yield break;
            }

            yield return value!;
        }
    }

    /// <summary>Erases the message type; this receiver is moved into the result.</summary>
    /// <returns>The opaque receiver.</returns>
    public OpaqueIpcReceiver ToOpaque() => new(Take(), Options);

    /// <summary>
    /// Closes this receiver; senders then get <see cref="IpcDisconnectedException"/>. A receive waiting on another
    /// thread is released with <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => Interlocked.Exchange(ref _end, null)?.Dispose();

    /// <inheritdoc/>
    public override string ToString() => _end is null ? $"IpcReceiver<{typeof(T).Name}> (closed)" : $"IpcReceiver<{typeof(T).Name}>";

    TransportChannelEnd IIpcChannelHandle.EndForTransfer => End;

    void IIpcChannelHandle.CompleteMove() => Dispose();

    /// <summary>Moves the transport end out (into a receiver set).</summary>
    internal TransportReceiver Take() =>
        Interlocked.Exchange(ref _end, null) ?? throw new ObjectDisposedException(GetType().Name, "This receiver was disposed, or moved into a message or a receiver set.");

    private TransportReceiver End => _end ?? throw new ObjectDisposedException(GetType().Name, "This receiver was disposed, or moved into a message or a receiver set.");

    private bool TryReceiveCore(TimeSpan timeout, out T? value)
    {
        TransportReceiver end = End;
        IpcSerializationContext context = Options.RentContext();
        try
        {
            ReceiveStatus status = end.Receive(timeout, context.Buffer, out ReceivedHandles? handles);
            switch (status)
            {
                case ReceiveStatus.Message:
                    value = MessageCodec.Deserialize<T>(context, context.Buffer.WrittenMemory, handles);
                    return true;
                case ReceiveStatus.Closed:
                    throw Disconnected();
                default:
                    value = default;
                    return false;
            }
        }
        finally
        {
            Options.ReturnContext(context);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(bool Received, T? Value)> ReceiveAsyncCore(CancellationToken cancellationToken)
    {
        TransportReceiver end = End;
        IpcSerializationContext context = Options.RentContext();
        try
        {
            (ReceiveStatus status, ReceivedHandles? handles) = await end.ReceiveAsync(context.Buffer, cancellationToken).ConfigureAwait(false);
            return status == ReceiveStatus.Message
                ? (true, MessageCodec.Deserialize<T>(context, context.Buffer.WrittenMemory, handles))
                : (false, default);
        }
        finally
        {
            Options.ReturnContext(context);
        }
    }

    private static IpcDisconnectedException Disconnected() =>
        new($"The IpcReceiver<{typeof(T).Name}> is disconnected: every sender is closed and every message was received.");
}
