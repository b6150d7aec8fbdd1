using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    // asm-generic/fcntl.h values that x86_64 and arm64 share (O_DIRECTORY and O_NOFOLLOW differ, so they are not used).
    internal const int O_RDONLY = 0x0;
    internal const int O_CLOEXEC = 0x80000;   // 02000000
    internal const int O_PATH = 0x200000;     // 010000000

    /// <summary><c>AT_FDCWD</c>.</summary>
    internal const int AT_FDCWD = -100;

    /// <summary><c>AT_RECURSIVE</c> (linux/fcntl.h): apply to the whole mount tree.</summary>
    internal const uint AT_RECURSIVE = 0x8000;
}
