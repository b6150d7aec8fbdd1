using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>
/// Owns one range of this task's virtual memory (a mapping of a memory entry, out-of-line memory that arrived in a
/// message, or pages allocated to carry a payload) and deallocates it exactly once.
/// </summary>
internal sealed class SafeVmRegionHandle : SafeHandle
{
    /// <summary>Creates an empty handle, to be filled by <see cref="SetRange"/> right after the call that maps the range.</summary>
    public SafeVmRegionHandle()
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
    }

    /// <summary>Wraps a range this task already owns.</summary>
    /// <param name="address">Its address.</param>
    /// <param name="size">Its size in bytes (the kernel rounds the range out to whole pages).</param>
    public SafeVmRegionHandle(ulong address, ulong size)
        : this()
    {
        SetRange(address, size);
    }

    /// <summary>The size of the range in bytes.</summary>
    public ulong Size { get; private set; }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>Stores the range a call just produced.</summary>
    /// <param name="address">Its address.</param>
    /// <param name="size">Its size in bytes.</param>
    public void SetRange(ulong address, ulong size)
    {
        Size = size;
        SetHandle((nint)address);
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() =>
        Interop.MachVmDeallocate(Interop.MachTaskSelf, (ulong)handle, Size) == Interop.KERN_SUCCESS;
}
