using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;unistd.h&gt;</c> and <c>&lt;sys/errno.h&gt;</c> (Darwin values).</summary>
internal static partial class Interop
{
    [LibraryImport(Libraries.System, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(nint fd);

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
