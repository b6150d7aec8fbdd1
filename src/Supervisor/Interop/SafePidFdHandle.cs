using System;
using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor;

/// <summary>Owns one process descriptor (pidfd) and closes it exactly once.</summary>
internal sealed class SafePidFdHandle : SafeHandle
{
    /// <summary>Creates an empty handle, filled right after the syscall by <see cref="Open"/>.</summary>
    public SafePidFdHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    /// <summary>Opens a pidfd for <paramref name="pid"/>; null when the process is gone or pidfds are unsupported.</summary>
    /// <param name="pid">The process id.</param>
    /// <param name="errno">The OS error when null is returned.</param>
    /// <returns>The handle, or null.</returns>
    public static SafePidFdHandle? Open(int pid, out int errno)
    {
        var handle = new SafePidFdHandle();
        int fd = Interop.PidfdOpen(pid, out errno);
        if (fd < 0)
        {
            handle.SetHandleAsInvalid();
            handle.Dispose();
            return null;
        }

        handle.SetHandle(fd);
        return handle;
    }

    /// <summary>Sends a signal to the process; false when it is already gone.</summary>
    /// <param name="signal">The signal number.</param>
    /// <returns>Whether the signal was delivered.</returns>
    public bool TrySignal(int signal) => !IsClosed && Interop.PidfdSendSignal(this, signal, out _) == 0;

    /// <summary>Blocks until the process exits (the pidfd becomes readable) or <paramref name="timeoutMilliseconds"/> passes.</summary>
    /// <param name="timeoutMilliseconds">-1 waits forever.</param>
    /// <returns>True when the process exited.</returns>
    public bool WaitForExit(int timeoutMilliseconds)
    {
        bool added = false;
        try
        {
            DangerousAddRef(ref added);
            var pfd = new Interop.PollFd { fd = (int)DangerousGetHandle(), events = Interop.POLLIN };
            while (true)
            {
                int n = Interop.Poll(ref pfd, 1, timeoutMilliseconds);
                if (n > 0)
                {
                    return true;
                }

                if (n == 0)
                {
                    return false;
                }

                if (Marshal.GetLastPInvokeError() != Interop.Errno.EINTR)
                {
                    return false;
                }
            }
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.Close(handle) == 0;
}
