using System;
using System.Buffers.Binary;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace SandboxedDecoder;

/// <summary>
/// "TIMG", a made-up image format, and a decoder written the way real parsers get written: it trusts the
/// header, recurses without a depth limit and honours a "save a copy to" chunk. Each of those bugs is what an
/// attacker aims at; the sandbox is what keeps them from mattering.
/// </summary>
/// <remarks>
/// Layout: "TIMG", width (u16 LE), height (u16 LE), then chunks. A chunk is a type byte and a u32 LE length:
/// 'P' run-length pixels (count, value) pairs; 'N' a group of chunks (nested); 'S' a UTF-8 path to save the
/// pixels to; 'E' (no length) ends the image.
/// </remarks>
public static class TinyImage
{
    private static readonly byte[] s_magic = "TIMG"u8.ToArray();

    /// <summary>Decodes an image.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a TIMG image.</exception>
    public static DecodeResult Decode(string name, byte[] data)
    {
        if (data.Length < 8 || !data.AsSpan(0, 4).SequenceEqual(s_magic))
        {
            throw new InvalidDataException($"{name}: not a TIMG image");
        }

        int width = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(4));
        int height = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(6));

        // Bug 1: the header is trusted. 30000 x 30000 asks for 900 MB before a single pixel is read.
        byte[] pixels = new byte[width * height];
        int written = 0;
        ReadChunks(data.AsSpan(8), pixels, ref written);
        return new DecodeResult(name, width, height, Convert.ToHexString(SHA256.HashData(pixels))[..16]);
    }

    private static void ReadChunks(ReadOnlySpan<byte> chunks, byte[] pixels, ref int written)
    {
        while (chunks.Length > 0)
        {
            byte type = chunks[0];
            if (type == 'E')
            {
                return;
            }

            if (chunks.Length < 5)
            {
                throw new InvalidDataException("truncated chunk header");
            }

            int length = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(chunks[1..]));
            if (length > chunks.Length - 5)
            {
                throw new InvalidDataException($"chunk '{(char)type}' claims {length} bytes, {chunks.Length - 5} are left");
            }

            ReadOnlySpan<byte> body = chunks.Slice(5, length);
            switch (type)
            {
                case (byte)'P':
                    for (int i = 0; i + 1 < body.Length; i += 2)
                    {
                        int count = Math.Min(body[i], pixels.Length - written);
                        pixels.AsSpan(written, count).Fill(body[i + 1]);
                        written += count;
                    }

                    break;
                case (byte)'N':
                    // Bug 2: no depth limit. A few hundred thousand nested groups overflow the stack.
                    ReadChunks(body, pixels, ref written);
                    break;
                case (byte)'S':
                    // Bug 3: a "feature" that writes wherever the file says.
                    File.WriteAllBytes(Encoding.UTF8.GetString(body), pixels);
                    break;
                default:
                    throw new InvalidDataException($"unknown chunk type 0x{type:X2}");
            }

            chunks = chunks[(5 + length)..];
        }
    }

    /// <summary>Builds an image (the demo's inputs).</summary>
    public static byte[] Build(int width, int height, params byte[][] chunks)
    {
        using var stream = new MemoryStream();
        stream.Write(s_magic);
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(size, (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(size[2..], (ushort)height);
        stream.Write(size);
        foreach (byte[] chunk in chunks)
        {
            stream.Write(chunk);
        }

        stream.WriteByte((byte)'E');
        return stream.ToArray();
    }

    /// <summary>A chunk of <paramref name="type"/> around <paramref name="body"/>.</summary>
    public static byte[] Chunk(char type, ReadOnlySpan<byte> body)
    {
        byte[] chunk = new byte[5 + body.Length];
        chunk[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(1), (uint)body.Length);
        body.CopyTo(chunk.AsSpan(5));
        return chunk;
    }

    /// <summary>A pixel chunk: a gradient of <paramref name="count"/> pixels.</summary>
    public static byte[] Gradient(int count)
    {
        byte[] pairs = new byte[(count + 99) / 100 * 2];
        for (int i = 0; i < pairs.Length; i += 2)
        {
            pairs[i] = 100;
            pairs[i + 1] = (byte)(i * 7);
        }

        return Chunk('P', pairs);
    }

    /// <summary>Groups nested <paramref name="depth"/> deep, written from the inside out.</summary>
    public static byte[] Nested(int depth)
    {
        byte[] data = new byte[depth * 5];
        for (int level = 0; level < depth; level++)
        {
            int at = level * 5;
            data[at] = (byte)'N';
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at + 1), (uint)(data.Length - at - 5));
        }

        return data;
    }
}
