namespace IpcChannel.Transport.Linux;

internal static partial class Interop
{
    /// <summary>errno values (asm-generic; identical on x86_64 and arm64).</summary>
    internal static class Errno
    {
        internal const int ENOENT = 2;
        internal const int EINTR = 4;
        internal const int EBADF = 9;
        internal const int EAGAIN = 11;
        internal const int ENOMEM = 12;
        internal const int EACCES = 13;
        internal const int EBUSY = 16;
        internal const int EINVAL = 22;
        internal const int ENFILE = 23;
        internal const int EMFILE = 24;
        internal const int EPIPE = 32;
        internal const int ENAMETOOLONG = 36;
        internal const int ENOTSOCK = 88;
        internal const int EMSGSIZE = 90;
        internal const int EPROTOTYPE = 91;
        internal const int ENOTCONN = 107;
        internal const int ECONNRESET = 104;
        internal const int ENOBUFS = 105;
        internal const int ETOOMANYREFS = 109;
        internal const int ECONNREFUSED = 111;
    }
}
