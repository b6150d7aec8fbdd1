using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IpcChannel.Core.Tests.Helpers;

/// <summary>One line of /proc/self/maps.</summary>
public sealed record Mapping(ulong Start, ulong End, string Permissions, string Inode, string Path)
{
    /// <summary>The mapping's length.</summary>
    public ulong Length => End - Start;
}

/// <summary>Reads /proc/self/maps: shows whether bytes live in a shared mapping or were copied.</summary>
public static class ProcMaps
{
    /// <summary>The address of the first byte of <paramref name="bytes"/> (no unsafe code: an offset from the null reference).</summary>
    public static ulong AddressOf(ReadOnlySpan<byte> bytes) =>
        (ulong)Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(bytes));

    /// <summary>Every mapping of this process.</summary>
    public static Mapping[] All() => File.ReadAllLines("/proc/self/maps").Select(Parse).ToArray();

    /// <summary>The mapping that contains <paramref name="address"/>, or null.</summary>
    public static Mapping? Containing(ulong address) => All().FirstOrDefault(m => m.Start <= address && address < m.End);

    /// <summary>The number of mappings whose path contains <paramref name="text"/>.</summary>
    public static int Count(string text) => All().Count(m => m.Path.Contains(text, StringComparison.Ordinal));

    private static Mapping Parse(string line)
    {
        // start-end perms offset dev inode [path]
        string[] parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        string[] range = parts[0].Split('-');
        return new Mapping(
            ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            parts[1],
            parts[4],
            parts.Length > 5 ? parts[5].Trim() : string.Empty);
    }
}
