using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Serialization;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>The receiving end of a raw bytes channel.</summary>
/// <remarks>
/// <para>One reader at a time, enforced: a receive that starts while another one is in progress (including an
/// asynchronous receive that has not completed) throws <see cref="InvalidOperationException"/> at once and consumes
/// nothing. <see cref="Dispose"/> releases a receive blocked on another thread with
/// <see cref="ObjectDisposedException"/> (or it returns a message it had already taken whole).</para>
/// <para>The <see cref="IBufferWriter{T}"/> overloads append each whole message to a
/// caller-owned buffer (for example a reused <see cref="ArrayBufferWriter{T}"/>), so a steady stream of
/// messages allocates nothing. Handles that a peer attaches to a bytes message are closed.</para>
/// <para>After every sender is gone and every message was received, receives throw
/// <see cref="IpcDisconnectedException"/>, for good.</para>
/// </remarks>
public sealed class IpcBytesReceiver : IDisposable, IIpcChannelHandle
{
    private readonly IpcSerializerOptions _options;
    private TransportReceiver? _end;

    internal IpcBytesReceiver(TransportReceiver end, IpcSerializerOptions options)
    {
        end.MaxMessageSize = options.MaxMessageSize;
        _end = end;
        _options = options;
    }

    /// <summary>The options this receiver was made with (its message size limit).</summary>
    internal IpcSerializerOptions Options => _options;

    /// <summary>Waits for the next message.</summary>
    /// <returns>The message bytes.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public byte[] Receive()
    {
        TryReceiveArray(Timeout.InfiniteTimeSpan, out byte[]? data);
        return data!;
    }

    /// <summary>Takes a message if one is queued, without waiting.</summary>
    /// <param name="data">The bytes, when the method returns <see langword="true"/>.</param>
    /// <returns><see langword="false"/> when nothing is queued.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public bool TryReceive([MaybeNullWhen(false)] out byte[] data) => TryReceiveArray(TimeSpan.Zero, out data);

    /// <summary>Waits up to <paramref name="timeout"/> for a message.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="data">The bytes, when the method returns <see langword="true"/>.</param>
    /// <returns><see langword="false"/> when the timeout passed with nothing queued.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public bool TryReceive(TimeSpan timeout, [MaybeNullWhen(false)] out byte[] data) => TryReceiveArray(timeout, out data);

    /// <summary>Waits asynchronously for the next message.</summary>
    /// <param name="cancellationToken">Cancels the wait; a cancelled receive consumed nothing.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<byte[]> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        IpcSerializationContext context = _options.RentContext();
        try
        {
            await ReceiveAsync(context.Buffer, cancellationToken).ConfigureAwait(false);
            return context.Buffer.WrittenSpan.ToArray();
        }
        finally
        {
            _options.ReturnContext(context);
        }
    }

    /// <summary>Waits for the next message and appends it whole to <paramref name="destination"/>.</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public void Receive(IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Receive(Timeout.InfiniteTimeSpan, destination);
    }

    /// <summary>Appends the next message to <paramref name="destination"/> if one is queued, without waiting.</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <returns><see langword="false"/> when nothing is queued.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public bool TryReceive(IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return Receive(TimeSpan.Zero, destination);
    }

    /// <summary>Waits up to <paramref name="timeout"/> and appends the next message to <paramref name="destination"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="destination">Receives the bytes.</param>
    /// <returns><see langword="false"/> when the timeout passed with nothing queued.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public bool TryReceive(TimeSpan timeout, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return Receive(timeout, destination);
    }

    /// <summary>Waits asynchronously for the next message and appends it whole to <paramref name="destination"/>.</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled receive consumed nothing.</param>
    /// <returns>A task that completes when a message was appended.</returns>
    /// <exception cref="IpcDisconnectedException">Every sender is gone and every message was received.</exception>
    /// <exception cref="ObjectDisposedException">This receiver was disposed or moved, also while this call was waiting.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress on this receiver.</exception>
    public ValueTask ReceiveAsync(IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = End.ReceiveAsync(destination, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            Complete(pending.Result);
            return ValueTask.CompletedTask;
        }

        return Awaited(pending);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        static async ValueTask Awaited(ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending) =>
            Complete(await pending.ConfigureAwait(false));
    }

    /// <summary>Closes this receiver. A receive waiting on another thread is released with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => Interlocked.Exchange(ref _end, null)?.Dispose();

    TransportChannelEnd IIpcChannelHandle.EndForTransfer => End;

    void IIpcChannelHandle.CompleteMove() => Dispose();

    /// <summary>Moves the transport end out (into a receiver set).</summary>
    internal TransportReceiver Take() =>
        Interlocked.Exchange(ref _end, null) ?? throw new ObjectDisposedException(nameof(IpcBytesReceiver), "This receiver was disposed, or moved into a message or a receiver set.");

    private TransportReceiver End => _end ?? throw new ObjectDisposedException(nameof(IpcBytesReceiver), "This receiver was disposed, or moved into a message or a receiver set.");

    private bool TryReceiveArray(TimeSpan timeout, [MaybeNullWhen(false)] out byte[] data)
    {
        IpcSerializationContext context = _options.RentContext();
        try
        {
            if (Receive(timeout, context.Buffer))
            {
                data = context.Buffer.WrittenSpan.ToArray();
                return true;
            }

            data = null;
            return false;
        }
        finally
        {
            _options.ReturnContext(context);
        }
    }

    private bool Receive(TimeSpan timeout, IBufferWriter<byte> destination)
    {
        ReceiveStatus status = End.Receive(timeout, destination, out ReceivedHandles? handles);
        return Complete((status, handles));
    }

    private static bool Complete((ReceiveStatus Status, ReceivedHandles? Handles) result)
    {
        // A bytes channel carries no handles: close any a peer attached.
        result.Handles?.Dispose();
        return result.Status switch
        {
            ReceiveStatus.Message => true,
            ReceiveStatus.Closed => throw new IpcDisconnectedException("The IpcBytesReceiver is disconnected: every sender is closed and every message was received."),
            _ => false,
        };
    }
}
