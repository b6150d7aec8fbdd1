using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>linux/capability.h.</summary>
    internal static class Capability
    {
        /// <summary><c>_LINUX_CAPABILITY_VERSION_3</c>: 64-bit capability sets in two <see cref="__user_cap_data_struct"/>.</summary>
        internal const uint _LINUX_CAPABILITY_VERSION_3 = 0x20080522;

        /// <summary><c>_LINUX_CAPABILITY_U32S_3</c>.</summary>
        internal const int _LINUX_CAPABILITY_U32S_3 = 2;

        internal const int CAP_SETPCAP = 8;

        [StructLayout(LayoutKind.Sequential)]
        internal struct __user_cap_header_struct
        {
            public uint version;
            public int pid;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct __user_cap_data_struct
        {
            public uint effective;
            public uint permitted;
            public uint inheritable;
        }
    }

    [LibraryImport(Libraries.Libc, EntryPoint = "capget", SetLastError = true)]
    internal static unsafe partial int CapGet(Capability.__user_cap_header_struct* header, Capability.__user_cap_data_struct* data);

    [LibraryImport(Libraries.Libc, EntryPoint = "capset", SetLastError = true)]
    internal static unsafe partial int CapSet(Capability.__user_cap_header_struct* header, Capability.__user_cap_data_struct* data);
}
