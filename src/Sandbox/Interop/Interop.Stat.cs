using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>
    /// <c>statx(2)</c> (glibc 2.28+). Used instead of <c>lstat</c> because <c>struct statx</c> has one layout on every
    /// architecture, whereas <c>struct stat</c> differs between x86_64 and arm64.
    /// </summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, Stat.StatxBuffer* buffer);

    /// <summary>linux/stat.h.</summary>
    internal static class Stat
    {
        internal const int AT_SYMLINK_NOFOLLOW = 0x100;
        internal const uint STATX_TYPE = 0x1;
        internal const uint STATX_MODE = 0x2;
        internal const uint STATX_UID = 0x8;
        internal const uint STATX_GID = 0x10;
        internal const uint S_IFMT = 0xF000;   // 0170000
        internal const uint S_IFDIR = 0x4000;  // 0040000

        /// <summary><c>struct statx</c> (renamed: an all-lowercase type name is reserved in C#), 256 bytes; only the head is named.</summary>
        [StructLayout(LayoutKind.Sequential, Size = 256)]
        internal struct StatxBuffer
        {
            public uint stx_mask;
            public uint stx_blksize;
            public ulong stx_attributes;
            public uint stx_nlink;
            public uint stx_uid;
            public uint stx_gid;
            public ushort stx_mode;
        }
    }
}
