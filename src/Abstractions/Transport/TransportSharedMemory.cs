using System;

namespace IpcChannel.Transport;

/// <summary>A read-only shared-memory region (sealed memfd on Linux, memory entry on macOS).</summary>
/// <remarks>Owns its OS object and mapping; <see cref="Dispose"/> unmaps and closes. Reading is thread-safe.</remarks>
internal abstract class TransportSharedMemory : IDisposable
{
    /// <summary>The region's length in bytes.</summary>
    public abstract int Length { get; }

    /// <summary>The mapped bytes. Valid until <see cref="Dispose"/>.</summary>
    /// <exception cref="ObjectDisposedException">The region is disposed.</exception>
    public abstract ReadOnlySpan<byte> Span { get; }

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public abstract bool IsDisposed { get; }

    /// <summary>Makes another owner of the same region (a new OS handle and mapping).</summary>
    /// <returns>The clone.</returns>
    public abstract TransportSharedMemory Clone();

    /// <summary>Unmaps and closes. Idempotent.</summary>
    public abstract void Dispose();
}
