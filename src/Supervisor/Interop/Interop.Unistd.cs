using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor;

internal static partial class Interop
{
    /// <summary>getppid(2): the parent's pid (1, or a subreaper's, once the parent died).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "getppid")]
    internal static partial int GetParentPid();

    /// <summary>geteuid(2).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "geteuid")]
    internal static partial uint GetEffectiveUserId();

    /// <summary>chown(2); <see cref="uint.MaxValue"/> (-1) leaves that ID unchanged.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Chown(string path, uint owner, uint group);

    /// <summary>_exit(2): ends the process at once (no handlers, no flushing).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "_exit")]
    internal static partial void Exit(int status);

    /// <summary>close(2).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(nint fd);

    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;
    internal const int SIGSTOP = 19;
    internal const int SIGCONT = 18;
}
