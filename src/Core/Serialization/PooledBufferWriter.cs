using System;
using System.Buffers;

namespace IpcChannel.Serialization;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over arrays rented from <see cref="ArrayPool{T}.Shared"/> up to
/// <see cref="PoolLimit"/>; larger ones are allocated for one message and dropped after it, never pooled.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    /// <summary>
    /// Buffers larger than this are neither rented nor kept: the shared pool would hold on to them (it keeps arrays
    /// up to 1 GiB), so one large message from a peer would stay in this process's memory for good.
    /// </summary>
    internal const int PoolLimit = 1024 * 1024;

    private byte[] _buffer = [];
    private int _written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>The number of bytes written.</summary>
    public int WrittenCount => _written;

    /// <inheritdoc/>
    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _written))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _written += count;
    }

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Forgets the written bytes; keeps a modest buffer for the next message.</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer.Length > PoolLimit)
        {
            _buffer = [];
        }
    }

    /// <summary>Returns the buffer to the pool (when it came from there).</summary>
    public void Dispose()
    {
        _written = 0;
        Release(_buffer);
        _buffer = [];
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        long wanted = Math.Max((long)_written + needed, Math.Max(256, (long)_buffer.Length * 2));
        int size = (int)Math.Min(wanted, Array.MaxLength);
        if (size - _written < needed)
        {
            throw new OutOfMemoryException("An IPC message cannot exceed 2 GiB.");
        }

        byte[] next = size > PoolLimit ? GC.AllocateUninitializedArray<byte>(size) : ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _written).CopyTo(next);
        Release(_buffer);
        _buffer = next;
    }

    /// <summary>Gives a rented buffer back; a large one (allocated, not rented) is left to the GC.</summary>
    private static void Release(byte[] buffer)
    {
        if (buffer.Length != 0 && buffer.Length <= PoolLimit)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
