using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor;

internal static partial class Interop
{
    /// <summary>pidfd_open(2) flag for a close-on-exec descriptor is implied: pidfds are always CLOEXEC.</summary>
    internal const int PIDFD_NONBLOCK = 0x800;

    /// <summary>Opens a process descriptor; returns the fd or -1 with errno set.</summary>
    internal static int PidfdOpen(int pid, out int errno)
    {
        nint fd = Syscall(SyscallNumbers.PidfdOpen, pid, 0, 0, 0);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return (int)fd;
    }

    /// <summary>Sends <paramref name="signal"/> through a process descriptor (no pid-reuse race).</summary>
    internal static int PidfdSendSignal(SafePidFdHandle pidfd, int signal, out int errno)
    {
        bool added = false;
        try
        {
            pidfd.DangerousAddRef(ref added);
            nint result = Syscall(SyscallNumbers.PidfdSendSignal, pidfd.DangerousGetHandle(), signal, 0, 0);
            errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            return (int)result;
        }
        finally
        {
            if (added)
            {
                pidfd.DangerousRelease();
            }
        }
    }
}
