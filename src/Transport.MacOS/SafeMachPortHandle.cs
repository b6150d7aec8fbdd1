using System;
using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>The kind of Mach right a <see cref="SafeMachPortHandle"/> owns, which decides how it is released.</summary>
internal enum MachPortRight
{
    /// <summary>One user reference of a send right (or of the dead name it became); released with <c>mach_port_deallocate</c>.</summary>
    Send,

    /// <summary>A receive right; released with <c>mach_port_mod_refs(RECEIVE, -1)</c>, which destroys the port.</summary>
    Receive,

    /// <summary>A send-once right; released with <c>mach_port_deallocate</c>.</summary>
    SendOnce,

    /// <summary>A port set; released with <c>mach_port_mod_refs(PORT_SET, -1)</c>.</summary>
    PortSet,
}

/// <summary>
/// Owns one Mach right (one user reference of it) in this task and releases it exactly once. Port names are small
/// integers the kernel reuses, so a name is only ever used between <see cref="SafeHandle.DangerousAddRef"/> and
/// <see cref="SafeHandle.DangerousRelease"/>, exactly like a file descriptor.
/// </summary>
internal sealed class SafeMachPortHandle : SafeHandle
{
    /// <summary>Creates an empty handle, to be filled by <see cref="SetName"/> right after the call that makes the right.</summary>
    /// <param name="right">The kind of right it will own.</param>
    public SafeMachPortHandle(MachPortRight right)
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
        Right = right;
    }

    /// <summary>Wraps a right this task already owns.</summary>
    /// <param name="name">The right's name (<see cref="Interop.MACH_PORT_DEAD"/> is accepted and owns nothing).</param>
    /// <param name="right">The kind of right.</param>
    public SafeMachPortHandle(uint name, MachPortRight right)
        : this(right)
    {
        SetHandle((nint)name);
    }

    /// <summary>The kind of right owned.</summary>
    public MachPortRight Right { get; }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>Whether this is <see cref="Interop.MACH_PORT_DEAD"/>: a right whose port was already destroyed in transit.</summary>
    public bool IsDeadName => (uint)handle == Interop.MACH_PORT_DEAD;

    /// <summary>Stores the name a call just produced; called right after that call.</summary>
    /// <param name="name">The new right's name.</param>
    public void SetName(uint name) => SetHandle((nint)name);

    /// <summary>The name, for use only between <see cref="SafeHandle.DangerousAddRef"/> and <see cref="SafeHandle.DangerousRelease"/>.</summary>
    /// <returns>The port name.</returns>
    public uint DangerousGetName() => (uint)handle;

    /// <summary>
    /// Records that the right left this task (moved into a sent message): the handle becomes closed without
    /// releasing anything, so a later dispose cannot touch a name the kernel may already have reused.
    /// </summary>
    public void MarkMoved() => SetHandleAsInvalid();

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        uint name = (uint)handle;
        if (name == Interop.MACH_PORT_DEAD)
        {
            return true;
        }

        uint task = Interop.MachTaskSelf;
        int result = Right switch
        {
            MachPortRight.Receive => Interop.MachPortModRefs(task, name, Interop.MACH_PORT_RIGHT_RECEIVE, -1),
            MachPortRight.PortSet => Interop.MachPortModRefs(task, name, Interop.MACH_PORT_RIGHT_PORT_SET, -1),
            _ => Interop.MachPortDeallocate(task, name),
        };
        return result == Interop.KERN_SUCCESS;
    }
}
