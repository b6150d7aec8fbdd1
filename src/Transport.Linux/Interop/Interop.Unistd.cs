using System.Runtime.InteropServices;

namespace IpcChannel.Transport.Linux;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(nint fd);

    [LibraryImport(Libraries.Libc, EntryPoint = "pread", SetLastError = true)]
    internal static unsafe partial nint PRead(SafeFdHandle fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Libraries.Libc, EntryPoint = "pwrite", SetLastError = true)]
    internal static unsafe partial nint PWrite(SafeFdHandle fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Libraries.Libc, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int FTruncate(SafeFdHandle fd, long length);

    [LibraryImport(Libraries.Libc, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long LSeek(SafeFdHandle fd, long offset, int whence);

    internal const int SEEK_END = 2;

    // int-fd overloads: for a descriptor that no SafeFdHandle owns (yet): a message's body memfd lives only inside
    // one send or receive, and a new memfd is filled before it is wrapped. The caller closes it in a finally.
    [LibraryImport(Libraries.Libc, EntryPoint = "pread", SetLastError = true)]
    internal static unsafe partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Libraries.Libc, EntryPoint = "pwrite", SetLastError = true)]
    internal static unsafe partial nint PWrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Libraries.Libc, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int FTruncate(int fd, long length);

    [LibraryImport(Libraries.Libc, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long LSeek(int fd, long offset, int whence);

    [LibraryImport(Libraries.Libc, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Unlink(string path);

    [LibraryImport(Libraries.Libc, EntryPoint = "rmdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RmDir(string path);

    [LibraryImport(Libraries.Libc, EntryPoint = "mkdtemp", SetLastError = true)]
    internal static unsafe partial byte* MkDTemp(byte* template);

    [LibraryImport(Libraries.Libc, EntryPoint = "memfd_create", SetLastError = true)]
    internal static unsafe partial int MemfdCreate(byte* name, uint flags);

    internal const uint MFD_CLOEXEC = 1;
    internal const uint MFD_ALLOW_SEALING = 2;
}
