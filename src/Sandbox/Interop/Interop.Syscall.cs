using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>
    /// <c>long syscall(long number, ...)</c> from unistd.h, for the system calls glibc does not wrap (Landlock,
    /// seccomp, close_range, mount_setattr).
    /// </summary>
    /// <remarks>
    /// The C declaration is variadic. On x86_64 and arm64 Linux, integer and pointer variadic arguments travel in
    /// the same registers as fixed ones, so a fixed six-argument import is call-compatible (unused arguments are
    /// ignored by the kernel). Numbers that differ per architecture live in <see cref="SyscallNumbers"/>.
    /// </remarks>
    [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number, nint arg1, nint arg2, nint arg3, nint arg4, nint arg5, nint arg6);

    /// <summary>A three-argument <see cref="Syscall(long, nint, nint, nint, nint, nint, nint)"/>.</summary>
    internal static long Syscall(long number, nint arg1, nint arg2, nint arg3) => Syscall(number, arg1, arg2, arg3, 0, 0, 0);
}
