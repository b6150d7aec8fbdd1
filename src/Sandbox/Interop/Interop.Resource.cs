using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>sys/resource.h. x86_64 and arm64 both use asm-generic/resource.h for these numbers.</summary>
    internal static class Resource
    {
        internal const int RLIMIT_FSIZE = 1;
        internal const int RLIMIT_DATA = 2;
        internal const int RLIMIT_CORE = 4;
        internal const int RLIMIT_NPROC = 6;
        internal const int RLIMIT_NOFILE = 7;

        /// <summary><c>RLIM_INFINITY</c> (<c>~0UL</c>).</summary>
        internal const ulong RLIM_INFINITY = ulong.MaxValue;

        /// <summary><c>struct rlimit</c> (renamed: an all-lowercase type name is reserved in C#): two <c>rlim_t</c> (unsigned long).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct RLimit
        {
            public ulong rlim_cur;
            public ulong rlim_max;
        }
    }

    [LibraryImport(Libraries.Libc, EntryPoint = "getrlimit", SetLastError = true)]
    internal static unsafe partial int GetRLimit(int resource, Resource.RLimit* limit);

    [LibraryImport(Libraries.Libc, EntryPoint = "setrlimit", SetLastError = true)]
    internal static unsafe partial int SetRLimit(int resource, Resource.RLimit* limit);
}
