namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>linux/audit.h and linux/elf-em.h: the <c>arch</c> values seccomp reports.</summary>
    internal static class Audit
    {
        internal const uint __AUDIT_ARCH_64BIT = 0x80000000u;
        internal const uint __AUDIT_ARCH_LE = 0x40000000u;
        internal const uint EM_386 = 3;
        internal const uint EM_ARM = 40;
        internal const uint EM_X86_64 = 62;
        internal const uint EM_AARCH64 = 183;

        /// <summary><c>AUDIT_ARCH_X86_64</c> = 0xC000003E.</summary>
        internal const uint AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE;

        /// <summary><c>AUDIT_ARCH_AARCH64</c> = 0xC00000B7.</summary>
        internal const uint AUDIT_ARCH_AARCH64 = EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE;

        /// <summary><c>AUDIT_ARCH_I386</c> = 0x40000003 (32-bit syscalls on an x86_64 kernel).</summary>
        internal const uint AUDIT_ARCH_I386 = EM_386 | __AUDIT_ARCH_LE;

        /// <summary><c>AUDIT_ARCH_ARM</c> = 0x40000028 (AArch32 syscalls on an arm64 kernel).</summary>
        internal const uint AUDIT_ARCH_ARM = EM_ARM | __AUDIT_ARCH_LE;
    }
}
