using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;unistd.h&gt;</c>, <c>&lt;fcntl.h&gt;</c> and <c>&lt;sys/errno.h&gt;</c> (Darwin values).</summary>
internal static partial class Interop
{
    [LibraryImport(Libraries.System, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(nint fd);

    [LibraryImport(Libraries.System, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(SafeFdHandle fd, int command, int argument);

    internal const int F_SETFD = 2;
    internal const int FD_CLOEXEC = 1;

    /// <summary>Darwin errno values.</summary>
    internal static class Errno
    {
        internal const int ENOENT = 2;
        internal const int EINTR = 4;
        internal const int EBADF = 9;
        internal const int ENOMEM = 12;
        internal const int EINVAL = 22;
        internal const int EMFILE = 24;
    }
}
