using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport;

/// <summary>One event reported by a <see cref="TransportReceiverSet"/>.</summary>
/// <param name="Id">The id the set gave the receiver when it was added.</param>
/// <param name="Closed">Whether this event reports the receiver's channel closing (then the set has dropped it).</param>
/// <param name="Payload">The message bytes (empty for a close).</param>
/// <param name="Handles">The message's handles, or <see langword="null"/>; the consumer must dispose them.</param>
internal readonly record struct TransportSelection(ulong Id, bool Closed, byte[] Payload, ReceivedHandles? Handles);

/// <summary>
/// Waits on many receivers at once. Each select reports every message that was ready and every channel that
/// closed, fairly: one busy channel cannot starve the others.
/// </summary>
/// <remarks>One caller at a time.</remarks>
internal abstract class TransportReceiverSet : IDisposable
{
    /// <summary>The number of receivers in the set.</summary>
    public abstract int Count { get; }

    /// <summary>Moves a receiver into the set.</summary>
    /// <param name="receiver">The receiver; the set owns it from now on.</param>
    /// <returns>Its id: sequential, starting at 0, never reused by this set.</returns>
    public abstract ulong Add(TransportReceiver receiver);

    /// <summary>Takes a receiver back out of the set.</summary>
    /// <param name="id">Its id.</param>
    /// <returns>The receiver (now owned by the caller), or <see langword="null"/> if the id is not in the set.</returns>
    public abstract TransportReceiver? Remove(ulong id);

    /// <summary>Waits up to <paramref name="timeout"/> for events and appends them to <paramref name="results"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> does not wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="results">Receives the events.</param>
    /// <returns>Whether any event was appended.</returns>
    public abstract bool Select(TimeSpan timeout, List<TransportSelection> results);

    /// <summary>Waits asynchronously for at least one event.</summary>
    /// <param name="results">Receives the events.</param>
    /// <param name="cancellationToken">Cancels the wait; nothing is consumed by a cancelled select.</param>
    /// <returns>A task that completes once events were appended.</returns>
    public abstract ValueTask SelectAsync(List<TransportSelection> results, CancellationToken cancellationToken);

    /// <summary>Closes every receiver in the set. Idempotent.</summary>
    public abstract void Dispose();
}
