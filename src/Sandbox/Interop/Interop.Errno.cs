namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>errno values (asm-generic/errno-base.h and errno.h; identical on x86_64 and arm64).</summary>
    internal static class Errno
    {
        internal const int EPERM = 1;
        internal const int ENOENT = 2;
        internal const int ESRCH = 3;
        internal const int EINTR = 4;
        internal const int EBADF = 9;
        internal const int EAGAIN = 11;
        internal const int ENOMEM = 12;
        internal const int EACCES = 13;
        internal const int EFAULT = 14;
        internal const int EINVAL = 22;
        internal const int EROFS = 30;
        internal const int ENOSYS = 38;
        internal const int EOPNOTSUPP = 95;
    }
}
