namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>linux/seccomp.h (UAPI). The system call number of seccomp(2) is per architecture: see <see cref="SyscallNumbers"/>.</summary>
    internal static class Seccomp
    {
        internal const int SECCOMP_MODE_FILTER = 2;

        internal const uint SECCOMP_SET_MODE_FILTER = 1;
        internal const uint SECCOMP_GET_ACTION_AVAIL = 2;

        internal const uint SECCOMP_FILTER_FLAG_TSYNC = 1u << 0;

        internal const uint SECCOMP_RET_KILL_PROCESS = 0x80000000u;
        internal const uint SECCOMP_RET_KILL_THREAD = 0x00000000u;
        internal const uint SECCOMP_RET_TRAP = 0x00030000u;
        internal const uint SECCOMP_RET_ERRNO = 0x00050000u;
        internal const uint SECCOMP_RET_LOG = 0x7ffc0000u;
        internal const uint SECCOMP_RET_ALLOW = 0x7fff0000u;
        internal const uint SECCOMP_RET_ACTION_FULL = 0xffff0000u;
        internal const uint SECCOMP_RET_DATA = 0x0000ffffu;

        // struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }:
        // offsets of the fields a filter loads (32-bit loads; args are little-endian on x86_64 and arm64,
        // so the low half of args[i] is at 16 + 8 * i).

        /// <summary><c>offsetof(struct seccomp_data, nr)</c>.</summary>
        internal const uint OffsetNr = 0;

        /// <summary><c>offsetof(struct seccomp_data, arch)</c>.</summary>
        internal const uint OffsetArch = 4;

        /// <summary>The offset of the low 32 bits of <c>args[index]</c> (little-endian).</summary>
        /// <param name="index">The argument index, 0 to 5.</param>
        /// <returns>The byte offset into <c>struct seccomp_data</c>.</returns>
        internal static uint OffsetArgLow(int index) => 16u + (8u * (uint)index);

        /// <summary><c>sizeof(struct seccomp_data)</c>.</summary>
        internal const int SeccompDataSize = 64;
    }
}
