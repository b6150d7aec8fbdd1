using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>
    /// <c>int prctl(int option, ...)</c> from sys/prctl.h. Variadic in C; integer arguments are passed in the same
    /// registers as fixed ones on x86_64 and arm64 Linux.
    /// </summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    // linux/prctl.h
    internal const int PR_SET_PDEATHSIG = 1;
    internal const int PR_GET_DUMPABLE = 3;
    internal const int PR_SET_DUMPABLE = 4;
    internal const int PR_CAPBSET_READ = 23;
    internal const int PR_CAPBSET_DROP = 24;
    internal const int PR_SET_NO_NEW_PRIVS = 38;
    internal const int PR_GET_NO_NEW_PRIVS = 39;
    internal const int PR_GET_SECCOMP = 21;
    internal const int PR_CAP_AMBIENT = 47;
    internal const nuint PR_CAP_AMBIENT_CLEAR_ALL = 4;
}
