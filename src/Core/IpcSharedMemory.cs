using System;
using System.Threading;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>
/// A read-only region of shared memory that can travel inside messages: the receiver maps the same pages,
/// nothing is copied. On Linux it is a memfd sealed against any change before it is first sent.
/// </summary>
/// <remarks>
/// <para>Sending it moves it: after the send succeeds this instance throws <see cref="ObjectDisposedException"/>.
/// A received region stays valid after the channel that carried it is gone, until disposed.</para>
/// <para>Equality compares contents. <see cref="Span"/> must not be used after <see cref="Dispose"/>.</para>
/// </remarks>
public sealed class IpcSharedMemory : IDisposable, IEquatable<IpcSharedMemory>
{
    private TransportSharedMemory? _region;

    internal IpcSharedMemory(TransportSharedMemory region) => _region = region;

    /// <summary>Creates a region holding a copy of <paramref name="bytes"/>.</summary>
    /// <param name="bytes">The contents.</param>
    /// <returns>The region.</returns>
    /// <exception cref="IpcException">The OS refused (for example, out of memory or descriptors).</exception>
    public static IpcSharedMemory FromBytes(ReadOnlySpan<byte> bytes) => new(IpcTransports.Current.CreateSharedMemory(bytes));

    /// <summary>Creates a region of <paramref name="length"/> bytes, each equal to <paramref name="value"/>.</summary>
    /// <param name="value">The byte.</param>
    /// <param name="length">The length, 0 or more.</param>
    /// <returns>The region.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public static IpcSharedMemory FromByte(byte value, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new IpcSharedMemory(IpcTransports.Current.CreateSharedMemory(value, length));
    }

    /// <summary>The bytes, mapped read-only.</summary>
    /// <exception cref="ObjectDisposedException">Disposed or moved.</exception>
    public ReadOnlySpan<byte> Span => Region.Span;

    /// <summary>The length in bytes.</summary>
    /// <exception cref="ObjectDisposedException">Disposed or moved.</exception>
    public int Length => Region.Length;

    /// <summary>Copies the bytes into a new array.</summary>
    /// <returns>The copy.</returns>
    public byte[] ToArray() => Region.Span.ToArray();

    /// <summary>Unmaps and closes the region.</summary>
    public void Dispose() => Interlocked.Exchange(ref _region, null)?.Dispose();

    /// <inheritdoc/>
    public bool Equals(IpcSharedMemory? other) =>
        other is not null && (ReferenceEquals(this, other) || Span.SequenceEqual(other.Span));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is IpcSharedMemory other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => _region is null ? "IpcSharedMemory (closed)" : $"IpcSharedMemory ({_region.Length} bytes)";

    internal TransportSharedMemory RegionForTransfer => Region;

    internal void CompleteMove() => Dispose();

    private TransportSharedMemory Region => _region ?? throw new ObjectDisposedException(nameof(IpcSharedMemory), "This shared memory was disposed, or moved into a message.");
}
