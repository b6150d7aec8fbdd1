using System;
using System.Runtime.InteropServices;

namespace IpcChannel.Transport.Linux;

/// <summary>Owns one Linux file descriptor and closes it exactly once.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    /// <summary>Creates an empty (invalid) handle, to be filled by <see cref="SetFd"/>.</summary>
    public SafeFdHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    /// <summary>Wraps a descriptor this process already owns.</summary>
    /// <param name="fd">The descriptor.</param>
    public SafeFdHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    /// <summary>Stores the descriptor a syscall just produced; called right after that syscall.</summary>
    /// <param name="fd">The new descriptor.</param>
    public void SetFd(int fd) => SetHandle(fd);

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        // close(2) must not be retried on EINTR on Linux: the descriptor is released either way.
        return Interop.Close(handle) == 0;
    }
}
