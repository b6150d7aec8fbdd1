using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string? source, string target, string? fileSystemType, nuint flags, nint data);

    /// <summary><c>mount(2)</c> with a text of file-system options (<c>size=…,mode=…</c>).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string? source, string target, string? fileSystemType, nuint flags, string? options);

    [LibraryImport(Libraries.Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Umount2(string target, int flags);

    /// <summary>sys/mount.h and linux/mount.h.</summary>
    internal static class MountFlags
    {
        internal const nuint MS_BIND = 4096;
        internal const nuint MS_REC = 16384;
        internal const nuint MS_NOSUID = 2;
        internal const nuint MS_NODEV = 4;
        internal const nuint MS_NOEXEC = 8;
        internal const nuint MS_PRIVATE = 1 << 18;

        /// <summary><c>MNT_DETACH</c> (umount2): lazy unmount, detached from the tree at once.</summary>
        internal const int MNT_DETACH = 2;

        /// <summary><c>__NR_mount_setattr</c>: 442 in the unified table (same on x86_64 and arm64).</summary>
        internal const long SYS_mount_setattr = 442;

        internal const ulong MOUNT_ATTR_RDONLY = 0x00000001;
        internal const ulong MOUNT_ATTR_NOSUID = 0x00000002;

        /// <summary><c>MOUNT_ATTR_SIZE_VER0</c>.</summary>
        internal const int MOUNT_ATTR_SIZE_VER0 = 32;

        /// <summary><c>struct mount_attr</c> (32 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct mount_attr
        {
            public ulong attr_set;
            public ulong attr_clr;
            public ulong propagation;
            public ulong userns_fd;
        }
    }
}
