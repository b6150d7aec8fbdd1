using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(nint fd);

    /// <summary><c>execve(2)</c>: replaces the process image; returns only on failure.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "execve", SetLastError = true)]
    internal static unsafe partial int Execve(byte* path, byte** argv, byte** envp);

    [LibraryImport(Libraries.Libc, EntryPoint = "geteuid")]
    internal static partial uint GetEUid();

    [LibraryImport(Libraries.Libc, EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Chown(string path, uint owner, uint group);

    [LibraryImport(Libraries.Libc, EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Chdir(string path);

    /// <summary>linux/close_range.h: mark the range close-on-exec instead of closing it.</summary>
    internal const uint CLOSE_RANGE_CLOEXEC = 1u << 2;

    /// <summary><c>__NR_close_range</c>: 436 in the unified table (same on x86_64 and arm64).</summary>
    internal const long SYS_close_range = 436;
}
