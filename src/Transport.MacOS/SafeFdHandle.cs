using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Owns one file descriptor (the dispatcher's kqueue) and closes it exactly once.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    /// <summary>Creates an empty (invalid) handle, to be filled by <see cref="SetFd"/>.</summary>
    public SafeFdHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    /// <summary>Stores the descriptor a call just produced.</summary>
    /// <param name="fd">The descriptor.</param>
    public void SetFd(int fd) => SetHandle(fd);

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.Close(handle) == 0;
}
