using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Reads the program interpreter (<c>PT_INTERP</c>, e.g. /lib64/ld-linux-x86-64.so.2) of a 64-bit little-endian ELF
/// executable. execve opens it for execution too, so Landlock must allow executing it.
/// </summary>
internal static class ElfInterpreter
{
    private const uint PT_INTERP = 3;

    /// <summary>Finds the interpreter of an executable.</summary>
    /// <param name="executable">The path of the executable.</param>
    /// <returns>The interpreter's path, or null for a static executable or a file that is not ELF64 LE.</returns>
    public static string? Find(string executable)
    {
        using var file = new FileStream(executable, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        Span<byte> header = stackalloc byte[64];
        if (file.Read(header) != header.Length
            || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F'
            || header[4] != 2 /* ELFCLASS64 */ || header[5] != 1 /* ELFDATA2LSB */)
        {
            return null;
        }

        long phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[0x20..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[0x36..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(header[0x38..]);
        if (phentsize < 56 || phnum > 256)
        {
            return null;
        }

        Span<byte> entry = stackalloc byte[56];
        for (int i = 0; i < phnum; i++)
        {
            file.Position = phoff + ((long)i * phentsize);
            if (file.Read(entry) != entry.Length)
            {
                return null;
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) != PT_INTERP)
            {
                continue;
            }

            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]);
            long size = (long)BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]);
            if (size is <= 1 or > 4096)
            {
                return null;
            }

            var path = new byte[size];
            file.Position = offset;
            file.ReadExactly(path);
            return Encoding.UTF8.GetString(path.AsSpan().TrimEnd((byte)0));
        }

        return null;
    }
}
