using System;
using System.Collections.Generic;
using static IpcChannel.Supervisor.Sandbox.Interop.Filter;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Builds a classic BPF program with named jump targets, resolved to the 8-bit relative offsets of
/// <c>struct sock_filter</c> when the program is finished.
/// </summary>
internal sealed class BpfProgramBuilder
{
    private readonly List<(sock_filter Instruction, string? TrueLabel, string? FalseLabel)> _code = [];
    private readonly Dictionary<string, int> _labels = new(StringComparer.Ordinal);

    /// <summary>The number of instructions so far.</summary>
    public int Count => _code.Count;

    /// <summary><c>BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)</c>: load 32 bits of <c>struct seccomp_data</c>.</summary>
    /// <param name="offset">The byte offset.</param>
    public void LoadWord(uint offset) => Emit((ushort)(BPF_LD | BPF_W | BPF_ABS), offset, null, null);

    /// <summary><c>BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask)</c>: A &amp;= mask.</summary>
    /// <param name="mask">The mask.</param>
    public void And(uint mask) => Emit((ushort)(BPF_ALU | BPF_AND | BPF_K), mask, null, null);

    /// <summary><c>BPF_STMT(BPF_RET | BPF_K, value)</c>.</summary>
    /// <param name="value">The seccomp return value.</param>
    public void Return(uint value) => Emit((ushort)(BPF_RET | BPF_K), value, null, null);

    /// <summary>Jumps to <paramref name="trueLabel"/> when A == k, else to <paramref name="falseLabel"/> (null: next instruction).</summary>
    /// <param name="k">The constant.</param>
    /// <param name="trueLabel">The target when equal, or null for the next instruction.</param>
    /// <param name="falseLabel">The target when not equal, or null for the next instruction.</param>
    public void JumpIfEqual(uint k, string? trueLabel, string? falseLabel) =>
        Emit((ushort)(BPF_JMP | BPF_JEQ | BPF_K), k, trueLabel, falseLabel);

    /// <summary>Jumps when A &gt;= k (unsigned).</summary>
    /// <param name="k">The constant.</param>
    /// <param name="trueLabel">The target when greater or equal, or null.</param>
    /// <param name="falseLabel">The target otherwise, or null.</param>
    public void JumpIfGreaterOrEqual(uint k, string? trueLabel, string? falseLabel) =>
        Emit((ushort)(BPF_JMP | BPF_JGE | BPF_K), k, trueLabel, falseLabel);

    /// <summary>Jumps when (A &amp; k) != 0.</summary>
    /// <param name="k">The mask.</param>
    /// <param name="trueLabel">The target when any bit is set, or null.</param>
    /// <param name="falseLabel">The target otherwise, or null.</param>
    public void JumpIfAnySet(uint k, string? trueLabel, string? falseLabel) =>
        Emit((ushort)(BPF_JMP | BPF_JSET | BPF_K), k, trueLabel, falseLabel);

    /// <summary>Names the next instruction.</summary>
    /// <param name="name">A label name, unique in the program.</param>
    /// <exception cref="InvalidOperationException">The label is already defined.</exception>
    public void Label(string name)
    {
        if (!_labels.TryAdd(name, _code.Count))
        {
            throw new InvalidOperationException($"BPF label '{name}' is defined twice.");
        }
    }

    /// <summary>Resolves the labels and returns the program.</summary>
    /// <returns>The instructions.</returns>
    /// <exception cref="InvalidOperationException">A label is missing, a jump goes backwards or further than 255, or the program is too long.</exception>
    public sock_filter[] Build()
    {
        if (_code.Count is 0 or > BPF_MAXINSNS)
        {
            throw new InvalidOperationException($"A BPF program has 1 to {BPF_MAXINSNS} instructions, not {_code.Count}.");
        }

        var program = new sock_filter[_code.Count];
        for (int i = 0; i < _code.Count; i++)
        {
            (sock_filter instruction, string? trueLabel, string? falseLabel) = _code[i];
            instruction.jt = Offset(i, trueLabel);
            instruction.jf = Offset(i, falseLabel);
            program[i] = instruction;
        }

        return program;
    }

    private void Emit(ushort code, uint k, string? trueLabel, string? falseLabel) =>
        _code.Add((new sock_filter { code = code, k = k }, trueLabel, falseLabel));

    private byte Offset(int from, string? label)
    {
        if (label is null)
        {
            return 0;
        }

        if (!_labels.TryGetValue(label, out int target))
        {
            throw new InvalidOperationException($"BPF label '{label}' is not defined.");
        }

        int offset = target - (from + 1);
        if (offset is < 0 or > byte.MaxValue)
        {
            throw new InvalidOperationException($"BPF jump from {from} to '{label}' ({target}) is out of range.");
        }

        return (byte)offset;
    }
}
