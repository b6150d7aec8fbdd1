using System;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport;

/// <summary>The sending end of a channel.</summary>
/// <remarks>
/// Thread-safe: many threads may send at once and each message arrives whole, never interleaved with
/// another. A send does not take ownership of the channel ends or regions it carries: the caller decides
/// (after success) whether to dispose them, which is how the typed layer implements move semantics.
/// </remarks>
internal abstract class TransportSender : TransportChannelEnd
{
    /// <summary>Sends one message; blocks while the channel's buffer is full.</summary>
    /// <param name="payload">The message bytes (any length up to the transport's limit).</param>
    /// <param name="channels">Channel ends to transfer; the receiving process gets working copies.</param>
    /// <param name="regions">Shared-memory regions to transfer; the receiver maps them.</param>
    /// <exception cref="IpcDisconnectedException">Every receiver of the channel is gone.</exception>
    /// <exception cref="IpcException">The OS refused the send; nothing was sent.</exception>
    /// <exception cref="ObjectDisposedException">This sender is disposed.</exception>
    public abstract void Send(
        ReadOnlySpan<byte> payload,
        ReadOnlySpan<TransportChannelEnd> channels,
        ReadOnlySpan<TransportSharedMemory> regions);

    /// <summary>Sends one message, waiting asynchronously (readiness-driven) while the buffer is full.</summary>
    /// <param name="payload">The message bytes.</param>
    /// <param name="channels">Channel ends to transfer.</param>
    /// <param name="regions">Shared-memory regions to transfer.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled send has sent nothing.</param>
    /// <returns>A task that completes when the message is queued in the channel.</returns>
    public abstract ValueTask SendAsync(
        ReadOnlyMemory<byte> payload,
        ReadOnlyMemory<TransportChannelEnd> channels,
        ReadOnlyMemory<TransportSharedMemory> regions,
        CancellationToken cancellationToken);

    /// <summary>Makes another, independent sender for the same channel.</summary>
    /// <returns>The new sender; it owns its own OS handle.</returns>
    public abstract TransportSender Clone();
}
