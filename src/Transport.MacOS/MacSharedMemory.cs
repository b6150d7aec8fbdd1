using System;
using System.Runtime.Versioning;
using System.Threading;

namespace IpcChannel.Transport.MacOS;

/// <summary>
/// A read-only shared-memory region: a send right to a read-only memory entry (<c>mach_make_memory_entry_64</c>)
/// and this task's read-only mapping of it (<c>mach_vm_map</c>). Sending passes the entry (a port right), so the
/// receiver maps the same pages: shared, not copied.
/// </summary>
/// <remarks>
/// A region this transport creates is written through a temporary read-write entry that is released before the
/// region is returned, so only read-only capabilities to it exist afterwards (the macOS counterpart of a sealed
/// memfd). A region that arrives from another process is mapped read-only; this task cannot verify that the sender
/// kept no writable mapping, so a hostile sender could still change it (Linux checks the seals instead).
/// </remarks>
[SupportedOSPlatform("macos")]
internal sealed unsafe class MacSharedMemory : TransportSharedMemory
{
    private readonly SafeMachPortHandle? _entry;
    private readonly SafeVmRegionHandle? _mapping;
    private readonly int _length;
    private int _disposed;

    private MacSharedMemory(SafeMachPortHandle? entry, SafeVmRegionHandle? mapping, int length)
    {
        _entry = entry;
        _mapping = mapping;
        _length = length;
    }

    /// <summary>The memory entry's send right (for sending), or <see langword="null"/> for an empty region.</summary>
    public SafeMachPortHandle? Entry => _entry;

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

    /// <summary>An empty region: no kernel object at all.</summary>
    /// <returns>The region.</returns>
    public static MacSharedMemory Empty() => new(null, null, 0);

    /// <summary>Creates a read-only region holding <paramref name="contents"/>.</summary>
    /// <param name="contents">The bytes.</param>
    /// <returns>The region.</returns>
    public static MacSharedMemory Create(ReadOnlySpan<byte> contents)
    {
        if (contents.IsEmpty)
        {
            return Empty();
        }

        (SafeMachPortHandle writableEntry, SafeVmRegionHandle writable) = CreateWritable(contents.Length);
        using (writableEntry)
        using (writable)
        {
            contents.CopyTo(new Span<byte>((void*)writable.DangerousGetHandle(), contents.Length));
            return Seal(writable, contents.Length);
        }
    }

    /// <summary>Creates a read-only region of <paramref name="length"/> copies of <paramref name="value"/>.</summary>
    /// <param name="value">The byte.</param>
    /// <param name="length">The length.</param>
    /// <returns>The region.</returns>
    public static MacSharedMemory Create(byte value, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return Empty();
        }

        (SafeMachPortHandle writableEntry, SafeVmRegionHandle writable) = CreateWritable(length);
        using (writableEntry)
        using (writable)
        {
            if (value != 0)
            {
                // New memory objects are zero-filled; only other values need writing.
                new Span<byte>((void*)writable.DangerousGetHandle(), length).Fill(value);
            }

            return Seal(writable, length);
        }
    }

    /// <summary>Maps a memory entry that arrived in a message.</summary>
    /// <param name="entry">The received send right; owned by the result, or released on failure.</param>
    /// <param name="declaredLength">The length the message's region table declares (more than 0).</param>
    /// <returns>The mapped region.</returns>
    /// <exception cref="IpcSerializationException">The right is not a memory entry of at least that size.</exception>
    public static MacSharedMemory FromReceived(SafeMachPortHandle entry, int declaredLength)
    {
        SafeVmRegionHandle mapping;
        try
        {
            mapping = Map(entry, declaredLength, Interop.VM_PROT_READ, out int result);
            if (result != Interop.KERN_SUCCESS)
            {
                throw Errors.Malformed($"a region is not a memory entry of {declaredLength} bytes (mach_vm_map: {Errors.Name(result)})");
            }
        }
        catch
        {
            entry.Dispose();
            throw;
        }

        return new MacSharedMemory(entry, mapping, declaredLength);
    }

    /// <inheritdoc/>
    public override TransportSharedMemory Clone()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (_entry is null)
        {
            return Empty();
        }

        SafeMachPortHandle entry = MachPorts.AddSendReference(_entry);
        try
        {
            return new MacSharedMemory(entry, MapOrThrow(entry, _length, Interop.VM_PROT_READ), _length);
        }
        catch
        {
            entry.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _mapping?.Dispose();
        _entry?.Dispose();
    }

    /// <summary>Makes a new zero-filled memory object and maps it read-write.</summary>
    private static (SafeMachPortHandle Entry, SafeVmRegionHandle Mapping) CreateWritable(int length)
    {
        SafeMachPortHandle entry = MakeEntry((ulong)length, 0, Interop.MAP_MEM_NAMED_CREATE | Interop.VM_PROT_READ | Interop.VM_PROT_WRITE);
        try
        {
            return (entry, MapOrThrow(entry, length, Interop.VM_PROT_READ | Interop.VM_PROT_WRITE));
        }
        catch
        {
            entry.Dispose();
            throw;
        }
    }

    /// <summary>Makes a read-only entry sharing the written pages and maps it read-only.</summary>
    private static MacSharedMemory Seal(SafeVmRegionHandle writable, int length)
    {
        SafeMachPortHandle entry = MakeEntry((ulong)length, (ulong)writable.DangerousGetHandle(), Interop.MAP_MEM_VM_SHARE | Interop.VM_PROT_READ);
        try
        {
            return new MacSharedMemory(entry, MapOrThrow(entry, length, Interop.VM_PROT_READ), length);
        }
        catch
        {
            entry.Dispose();
            throw;
        }
    }

    private static SafeMachPortHandle MakeEntry(ulong length, ulong address, int permission)
    {
        var entry = new SafeMachPortHandle(MachPortRight.Send);
        ulong size = length;
        uint name = Interop.MACH_PORT_NULL;
        int result = Interop.MachMakeMemoryEntry64(Interop.MachTaskSelf, &size, address, permission, &name, Interop.MACH_PORT_NULL);
        if (result != Interop.KERN_SUCCESS || size < length)
        {
            entry.Dispose();
            if (result == Interop.KERN_SUCCESS)
            {
                _ = Interop.MachPortDeallocate(Interop.MachTaskSelf, name);
            }

            throw Errors.ForKernReturn(result == Interop.KERN_SUCCESS ? Interop.KERN_INVALID_VALUE : result, $"mach_make_memory_entry_64 of {length} bytes");
        }

        entry.SetName(name);
        return entry;
    }

    private static SafeVmRegionHandle MapOrThrow(SafeMachPortHandle entry, int length, int protection)
    {
        SafeVmRegionHandle mapping = Map(entry, length, protection, out int result);
        return result == Interop.KERN_SUCCESS ? mapping : throw Errors.ForKernReturn(result, $"mach_vm_map of a {length}-byte shared-memory region");
    }

    private static SafeVmRegionHandle Map(SafeMachPortHandle entry, int length, int protection, out int result)
    {
        var mapping = new SafeVmRegionHandle();
        bool referenced = false;
        entry.DangerousAddRef(ref referenced);
        try
        {
            ulong address = 0;
            result = Interop.MachVmMap(
                Interop.MachTaskSelf, &address, (ulong)length, 0, Interop.VM_FLAGS_ANYWHERE, entry.DangerousGetName(), 0,
                copy: 0, protection, protection, Interop.VM_INHERIT_NONE);
            if (result == Interop.KERN_SUCCESS)
            {
                mapping.SetRange(address, (ulong)length);
            }
            else
            {
                mapping.Dispose();
            }

            return mapping;
        }
        finally
        {
            if (referenced)
            {
                entry.DangerousRelease();
            }
        }
    }
}
