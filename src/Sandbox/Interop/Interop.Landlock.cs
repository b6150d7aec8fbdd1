using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>
    /// linux/landlock.h (UAPI). Checked against the kernel header and landlock(7); the ABI version that
    /// introduced each constant is noted next to it.
    /// </summary>
    internal static class Landlock
    {
        /// <summary><c>__NR_landlock_create_ruleset</c>: 444 in the unified table (same on x86_64 and arm64).</summary>
        internal const long SYS_landlock_create_ruleset = 444;

        /// <summary><c>__NR_landlock_add_rule</c>: 445 in the unified table.</summary>
        internal const long SYS_landlock_add_rule = 445;

        /// <summary><c>__NR_landlock_restrict_self</c>: 446 in the unified table.</summary>
        internal const long SYS_landlock_restrict_self = 446;

        internal const uint LANDLOCK_CREATE_RULESET_VERSION = 1u << 0;

        // landlock_restrict_self() flags (ABI 7).
        internal const uint LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF = 1u << 0;
        internal const uint LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON = 1u << 1;
        internal const uint LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF = 1u << 2;

        internal const int LANDLOCK_RULE_PATH_BENEATH = 1;
        internal const int LANDLOCK_RULE_NET_PORT = 2; // ABI 4

        // Filesystem access rights.
        internal const ulong LANDLOCK_ACCESS_FS_EXECUTE = 1ul << 0;      // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_WRITE_FILE = 1ul << 1;   // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_READ_FILE = 1ul << 2;    // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_READ_DIR = 1ul << 3;     // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_REMOVE_DIR = 1ul << 4;   // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_REMOVE_FILE = 1ul << 5;  // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_MAKE_CHAR = 1ul << 6;    // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_MAKE_DIR = 1ul << 7;     // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_MAKE_REG = 1ul << 8;     // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_MAKE_SOCK = 1ul << 9;    // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_MAKE_FIFO = 1ul << 10;   // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_MAKE_BLOCK = 1ul << 11;  // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_MAKE_SYM = 1ul << 12;    // ABI 1
        internal const ulong LANDLOCK_ACCESS_FS_REFER = 1ul << 13;       // ABI 2
        internal const ulong LANDLOCK_ACCESS_FS_TRUNCATE = 1ul << 14;    // ABI 3
        internal const ulong LANDLOCK_ACCESS_FS_IOCTL_DEV = 1ul << 15;   // ABI 5

        // Network access rights (ABI 4).
        internal const ulong LANDLOCK_ACCESS_NET_BIND_TCP = 1ul << 0;
        internal const ulong LANDLOCK_ACCESS_NET_CONNECT_TCP = 1ul << 1;

        // Scopes (ABI 6).
        internal const ulong LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1ul << 0;
        internal const ulong LANDLOCK_SCOPE_SIGNAL = 1ul << 1;

        /// <summary>
        /// <c>struct landlock_ruleset_attr</c> as of ABI 6 (24 bytes). The kernel accepts a shorter size from
        /// callers that know fewer fields: 8 bytes (ABI 1-3), 16 bytes (ABI 4-5), 24 bytes (ABI 6+).
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct landlock_ruleset_attr
        {
            public ulong handled_access_fs;
            public ulong handled_access_net;
            public ulong scoped;
        }

        /// <summary><c>struct landlock_path_beneath_attr</c>: packed, 12 bytes.</summary>
        [StructLayout(LayoutKind.Sequential, Pack = 1)]
        internal struct landlock_path_beneath_attr
        {
            public ulong allowed_access;
            public int parent_fd;
        }

        /// <summary><c>struct landlock_net_port_attr</c> (ABI 4): not packed, 16 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct landlock_net_port_attr
        {
            public ulong allowed_access;
            public ulong port;
        }
    }
}
