using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>linux/filter.h and linux/bpf_common.h (classic BPF, as seccomp uses it).</summary>
    internal static class Filter
    {
        // Instruction classes.
        internal const ushort BPF_LD = 0x00;
        internal const ushort BPF_ALU = 0x04;
        internal const ushort BPF_JMP = 0x05;
        internal const ushort BPF_RET = 0x06;

        // ld/ldx fields.
        internal const ushort BPF_W = 0x00;
        internal const ushort BPF_ABS = 0x20;

        // alu/jmp fields.
        internal const ushort BPF_AND = 0x50;
        internal const ushort BPF_JA = 0x00;
        internal const ushort BPF_JEQ = 0x10;
        internal const ushort BPF_JGT = 0x20;
        internal const ushort BPF_JGE = 0x30;
        internal const ushort BPF_JSET = 0x40;
        internal const ushort BPF_K = 0x00;

        /// <summary><c>BPF_MAXINSNS</c>: the longest classic BPF program the kernel accepts.</summary>
        internal const int BPF_MAXINSNS = 4096;

        /// <summary><c>struct sock_filter</c>: 8 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct sock_filter
        {
            public ushort code;
            public byte jt;
            public byte jf;
            public uint k;
        }

        /// <summary><c>struct sock_fprog</c>: <c>unsigned short len</c> then a pointer (16 bytes on 64-bit).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct sock_fprog
        {
            public ushort len;
            public sock_filter* filter;
        }
    }
}
