using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport;

/// <summary>The receiving end of a channel.</summary>
/// <remarks>
/// One reader at a time, enforced: a receive (synchronous, or asynchronous until it completes) that starts while
/// another is in progress throws <see cref="InvalidOperationException"/> at once and consumes nothing.
/// <c>Dispose</c> releases a receive blocked on another thread, which then throws
/// <see cref="ObjectDisposedException"/> (or returns a message it had already taken whole). Every receive appends the whole message payload to a caller-supplied
/// <see cref="IBufferWriter{T}"/>, so a steady stream of byte messages needs no allocation. Handles that
/// arrived with the message are returned in a <see cref="ReceivedHandles"/> (or <see langword="null"/> when
/// there were none) which the caller must dispose after taking what it wants.
/// A malformed message raises <see cref="IpcSerializationException"/> (or <see cref="IpcException"/>),
/// is consumed whole, and has its handles closed; the receiver stays usable.
/// </remarks>
internal abstract class TransportReceiver : TransportChannelEnd
{
    /// <summary>1 while a receive is in progress (see <see cref="EnterReader"/>).</summary>
    private int _reading;

    /// <summary>The largest message accepted, in bytes; larger declared sizes are refused. Default 2 GiB − 1.</summary>
    public int MaxMessageSize { get; set; } = int.MaxValue;

    /// <summary>Receives a message if one is queued, without blocking.</summary>
    /// <param name="payload">Receives the message bytes.</param>
    /// <param name="handles">The handles of the message, or <see langword="null"/> when it carried none.</param>
    /// <returns>Whether a message arrived, nothing was queued, or the channel is closed for good.</returns>
    /// <exception cref="InvalidOperationException">Another receive is in progress.</exception>
    public ReceiveStatus TryReceive(IBufferWriter<byte> payload, out ReceivedHandles? handles)
    {
        EnterReader();
        try
        {
            return ReceiveNow(payload, out handles);
        }
        finally
        {
            ExitReader();
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a message.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="payload">Receives the message bytes.</param>
    /// <param name="handles">The handles of the message, or <see langword="null"/>.</param>
    /// <returns><see cref="ReceiveStatus.Empty"/> when the timeout passed with nothing queued.</returns>
    /// <exception cref="InvalidOperationException">Another receive is in progress.</exception>
    public ReceiveStatus Receive(TimeSpan timeout, IBufferWriter<byte> payload, out ReceivedHandles? handles)
    {
        EnterReader();
        try
        {
            return ReceiveWithin(timeout, payload, out handles);
        }
        finally
        {
            ExitReader();
        }
    }

    /// <summary>Waits asynchronously, driven by readiness, for a message or the channel's closing.</summary>
    /// <param name="payload">Receives the message bytes.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled receive has consumed nothing.</param>
    /// <returns>The status (never <see cref="ReceiveStatus.Empty"/>) and the message's handles.</returns>
    /// <exception cref="InvalidOperationException">Another receive is in progress.</exception>
    /// <remarks>The receive stays this receiver's one reader until the returned task completes.</remarks>
    public ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> ReceiveAsync(
        IBufferWriter<byte> payload, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<(ReceiveStatus, ReceivedHandles?)>(cancellationToken);
        }

        EnterReader();
        bool pending = false;
        try
        {
            ReceiveStatus status = ReceiveNow(payload, out ReceivedHandles? handles);
            if (status != ReceiveStatus.Empty)
            {
                return new ValueTask<(ReceiveStatus, ReceivedHandles?)>((status, handles));
            }

            pending = true;
            return WaitAndReceiveAsync(payload, cancellationToken);
        }
        finally
        {
            if (!pending)
            {
                ExitReader();
            }
        }
    }

    /// <summary>Receives a message if one is queued, without blocking; called by the one reader.</summary>
    /// <param name="payload">Receives the message bytes.</param>
    /// <param name="handles">The handles of the message, or <see langword="null"/>.</param>
    /// <returns>The status.</returns>
    protected abstract ReceiveStatus ReceiveNow(IBufferWriter<byte> payload, out ReceivedHandles? handles);

    /// <summary>Waits up to <paramref name="timeout"/> for a message; called by the one reader.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="payload">Receives the message bytes.</param>
    /// <param name="handles">The handles of the message, or <see langword="null"/>.</param>
    /// <returns>The status.</returns>
    protected abstract ReceiveStatus ReceiveWithin(TimeSpan timeout, IBufferWriter<byte> payload, out ReceivedHandles? handles);

    /// <summary>Waits for readiness, then receives; called by the one reader once <see cref="ReceiveNow"/> found nothing.</summary>
    /// <param name="payload">Receives the message bytes.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The status (never <see cref="ReceiveStatus.Empty"/>) and the message's handles.</returns>
    protected abstract ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> ReceiveWhenReadyAsync(
        IBufferWriter<byte> payload, CancellationToken cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> WaitAndReceiveAsync(
        IBufferWriter<byte> payload, CancellationToken cancellationToken)
    {
        try
        {
            return await ReceiveWhenReadyAsync(payload, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ExitReader();
        }
    }

    /// <summary>Claims this receiver for one receive; pair with <see cref="ExitReader"/>.</summary>
    /// <exception cref="InvalidOperationException">Another receive is in progress.</exception>
    private void EnterReader()
    {
        if (Interlocked.Exchange(ref _reading, 1) != 0)
        {
            throw new InvalidOperationException(
                "Another receive is already in progress on this channel: a receiver serves one reader at a time. " +
                "Receive from one thread (or one pending asynchronous call) at a time, or hand messages on from a single reader.");
        }
    }

    /// <summary>Ends the receive claimed by <see cref="EnterReader"/>.</summary>
    private void ExitReader() => Volatile.Write(ref _reading, 0);
}
