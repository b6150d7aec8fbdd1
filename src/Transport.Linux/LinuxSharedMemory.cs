using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace IpcChannel.Transport.Linux;

/// <summary>A sealed memfd mapped read-only.</summary>
internal sealed unsafe class LinuxSharedMemory : TransportSharedMemory
{
    private readonly SafeFdHandle _memfd;
    private readonly SafeMappingHandle? _mapping;
    private readonly int _length;
    private int _disposed;

    private LinuxSharedMemory(SafeFdHandle memfd, int length, bool populate = false)
    {
        _memfd = memfd;
        _length = length;
        if (length > 0)
        {
            try
            {
                _mapping = SafeMappingHandle.MapReadOnly(memfd, length, populate);
            }
            catch
            {
                memfd.Dispose();
                throw;
            }
        }
    }

    /// <summary>The memfd (for sending).</summary>
    public SafeFdHandle Handle => _memfd;

    /// <inheritdoc/>
    public override int Length => _length;

    /// <inheritdoc/>
    public override bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc/>
    public override ReadOnlySpan<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _mapping is null ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>((void*)_mapping.DangerousGetHandle(), _length);
        }
    }

    /// <summary>Creates a sealed region holding <paramref name="contents"/>.</summary>
    /// <param name="contents">The bytes.</param>
    /// <returns>The region.</returns>
    public static LinuxSharedMemory Create(ReadOnlySpan<byte> contents) =>
        new(Frames.CreateSealedMemfd(contents, default), contents.Length);

    /// <summary>Creates a sealed region of <paramref name="length"/> copies of <paramref name="value"/>.</summary>
    /// <param name="value">The byte.</param>
    /// <param name="length">The length.</param>
    /// <returns>The region.</returns>
    public static LinuxSharedMemory Create(byte value, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        SafeFdHandle memfd = Frames.CreateMemfd(length);
        try
        {
            if (value != 0 && length > 0)
            {
                // Fill through a temporary writable mapping, unmapped before sealing (F_SEAL_WRITE needs that).
                using (SafeMappingHandle writable = SafeMappingHandle.Map(memfd, length, Interop.PROT_READ | Interop.PROT_WRITE))
                {
                    new Span<byte>((void*)writable.DangerousGetHandle(), length).Fill(value);
                }
            }

            Frames.Seal(memfd);
        }
        catch
        {
            memfd.Dispose();
            throw;
        }

        return new LinuxSharedMemory(memfd, length);
    }

    /// <summary>Wraps a memfd that arrived in a message, after checking its seals and size.</summary>
    /// <param name="memfd">The received descriptor; owned by the result, or closed on failure.</param>
    /// <param name="declaredLength">The length the message's region table declares.</param>
    /// <returns>The mapped region.</returns>
    /// <exception cref="IpcSerializationException">Unsealed, or not of the declared size.</exception>
    public static LinuxSharedMemory FromReceived(SafeFdHandle memfd, int declaredLength)
    {
        try
        {
            long size = Frames.CheckSealedSize(memfd, "shared-memory region");
            if (size != declaredLength)
            {
                throw Errors.Malformed($"a shared-memory region has {size} bytes where the message declares {declaredLength}");
            }
        }
        catch
        {
            memfd.Dispose();
            throw;
        }

        // A received region is there to be read: fill its page tables in the mmap call (its pages exist, the
        // sender wrote them) instead of taking one fault per 16 pages on the first read.
        return new LinuxSharedMemory(memfd, declaredLength, populate: true);
    }

    /// <inheritdoc/>
    public override TransportSharedMemory Clone()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new LinuxSharedMemory(LinuxSender.Duplicate(_memfd), _length);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _mapping?.Dispose();
        _memfd.Dispose();
    }
}

/// <summary>Owns one mmap'd range and unmaps it exactly once.</summary>
internal sealed class SafeMappingHandle : SafeHandle
{
    private nuint _length;

    /// <summary>Creates an empty handle (for the marshaller).</summary>
    public SafeMappingHandle()
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> read-only and shared.</summary>
    /// <param name="fd">The file.</param>
    /// <param name="length">Bytes to map (more than 0).</param>
    /// <param name="populate">Whether to fill the page tables now (<c>MAP_POPULATE</c>).</param>
    /// <returns>The mapping.</returns>
    public static SafeMappingHandle MapReadOnly(SafeFdHandle fd, int length, bool populate = false) =>
        Map(fd, length, Interop.PROT_READ, populate ? Interop.MAP_POPULATE : 0);

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> shared with the given protection.</summary>
    /// <param name="fd">The file.</param>
    /// <param name="length">Bytes to map (more than 0).</param>
    /// <param name="protection">PROT_* flags.</param>
    /// <param name="extraFlags">MAP_* flags added to MAP_SHARED.</param>
    /// <returns>The mapping.</returns>
    public static SafeMappingHandle Map(SafeFdHandle fd, int length, int protection, int extraFlags = 0)
    {
        var mapping = new SafeMappingHandle();
        nint address = Interop.MMap(0, (nuint)length, protection, Interop.MAP_SHARED | extraFlags, fd, 0);
        if (address == Interop.MAP_FAILED)
        {
            IpcException error = Errors.Last("mmap of a shared-memory region");
            mapping.Dispose();
            throw error;
        }

        mapping._length = (nuint)length;
        mapping.SetHandle(address);
        return mapping;
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.MUnmap(handle, _length) == 0;
}
