using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>Owns one Linux file descriptor (an O_PATH directory handle or a Landlock ruleset) and closes it once.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    /// <summary>Creates an empty (invalid) handle, filled by <see cref="SetFd"/> right after the syscall.</summary>
    public SafeFdHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    /// <summary>Stores the descriptor a syscall just produced.</summary>
    /// <param name="fd">The new descriptor.</param>
    public void SetFd(long fd) => SetHandle((nint)fd);

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.Close(handle) == 0;
}
