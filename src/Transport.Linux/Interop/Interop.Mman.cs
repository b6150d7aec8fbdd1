using System.Runtime.InteropServices;

namespace IpcChannel.Transport.Linux;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint MMap(nint address, nuint length, int prot, int flags, SafeFdHandle fd, long offset);

    [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int MUnmap(nint address, nuint length);

    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int MAP_SHARED = 0x1;
    internal const int MAP_POPULATE = 0x8000;
    internal static readonly nint MAP_FAILED = -1;
}
