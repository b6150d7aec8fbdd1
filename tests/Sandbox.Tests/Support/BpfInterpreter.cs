using System;
using System.Buffers.Binary;
using IpcChannel.Supervisor.Sandbox;
using static IpcChannel.Supervisor.Sandbox.Interop.Filter;

namespace IpcChannel.Sandbox.Tests.Support;

/// <summary>
/// Runs a classic BPF seccomp program over a <c>struct seccomp_data</c>, the way the kernel does, for the
/// instructions the filter uses (and fails on any other), so that the x86_64 and arm64 programs can both be checked
/// on any machine.
/// </summary>
public static class BpfInterpreter
{
    /// <summary>Runs <paramref name="program"/> for one system call.</summary>
    /// <returns>The seccomp return value.</returns>
    internal static uint Run(sock_filter[] program, uint arch, int nr, params ulong[] args)
    {
        Span<byte> data = stackalloc byte[Interop.Seccomp.SeccompDataSize];
        data.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(data, nr);
        BinaryPrimitives.WriteUInt32LittleEndian(data[4..], arch);
        for (int i = 0; i < args.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data[(16 + (8 * i))..], args[i]);
        }

        uint a = 0;
        int pc = 0;
        for (int steps = 0; steps <= program.Length; steps++)
        {
            sock_filter instruction = program[pc];
            switch (instruction.code)
            {
                case BPF_LD | BPF_W | BPF_ABS:
                    if (instruction.k % 4 != 0 || instruction.k + 4 > data.Length)
                    {
                        throw new InvalidOperationException($"misaligned or out-of-range load at {pc}: {instruction.k}");
                    }

                    a = BinaryPrimitives.ReadUInt32LittleEndian(data[(int)instruction.k..]);
                    pc++;
                    break;
                case BPF_ALU | BPF_AND | BPF_K:
                    a &= instruction.k;
                    pc++;
                    break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                    pc += 1 + (a == instruction.k ? instruction.jt : instruction.jf);
                    break;
                case BPF_JMP | BPF_JGE | BPF_K:
                    pc += 1 + (a >= instruction.k ? instruction.jt : instruction.jf);
                    break;
                case BPF_JMP | BPF_JSET | BPF_K:
                    pc += 1 + ((a & instruction.k) != 0 ? instruction.jt : instruction.jf);
                    break;
                case BPF_RET | BPF_K:
                    return instruction.k;
                default:
                    throw new InvalidOperationException($"unexpected BPF instruction 0x{instruction.code:x} at {pc}");
            }

            if (pc >= program.Length)
            {
                throw new InvalidOperationException("the program ran off its end");
            }
        }

        throw new InvalidOperationException("the program did not return");
    }
}
