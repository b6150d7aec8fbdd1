using System;
using System.Buffers;
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
    public abstract ReceiveStatus TryReceive(IBufferWriter<byte> payload, out ReceivedHandles? handles);

    /// <summary>Waits up to <paramref name="timeout"/> for a message.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="payload">Receives the message bytes.</param>
    /// <param name="handles">The handles of the message, or <see langword="null"/>.</param>
    /// <returns><see cref="ReceiveStatus.Empty"/> when the timeout passed with nothing queued.</returns>
    public abstract ReceiveStatus Receive(TimeSpan timeout, IBufferWriter<byte> payload, out ReceivedHandles? handles);

    /// <summary>Waits asynchronously, driven by readiness, for a message or the channel's closing.</summary>
    /// <param name="payload">Receives the message bytes.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled receive has consumed nothing.</param>
    /// <returns>The status (never <see cref="ReceiveStatus.Empty"/>) and the message's handles.</returns>
    public abstract ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> ReceiveAsync(
        IBufferWriter<byte> payload, CancellationToken cancellationToken);

    /// <summary>Claims this receiver for one receive; pair with <see cref="ExitReader"/>.</summary>
    /// <exception cref="InvalidOperationException">Another receive is in progress.</exception>
    protected void EnterReader()
    {
        if (Interlocked.Exchange(ref _reading, 1) != 0)
        {
            throw new InvalidOperationException(
                "Another receive is already in progress on this channel: a receiver serves one reader at a time. " +
                "Receive from one thread (or one pending asynchronous call) at a time, or hand messages on from a single reader.");
        }
    }

    /// <summary>Ends the receive claimed by <see cref="EnterReader"/>.</summary>
    protected void ExitReader() => Volatile.Write(ref _reading, 0);
}
