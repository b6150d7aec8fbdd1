using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor;

internal static partial class Interop
{
    /// <summary>Syscall numbers (the same on x86_64 and arm64 for these recent, unified calls).</summary>
    internal static class SyscallNumbers
    {
        internal const nint PidfdSendSignal = 424;
        internal const nint PidfdOpen = 434;
    }

    /// <summary>syscall(2) with three arguments.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial nint Syscall(nint number, nint arg1, nint arg2, nint arg3, nint arg4);
}
