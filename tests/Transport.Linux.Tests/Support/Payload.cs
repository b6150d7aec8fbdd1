using System;
using Xunit;

namespace IpcChannel.Tests.Support;

/// <summary>Test payloads with the <c>i % 251</c> pattern (a prime period, so shifted or torn data is visible).</summary>
public static class Payload
{
    private const int Period = 251;

    /// <summary>A block long enough to slice any chunk of the pattern from, at any phase.</summary>
    private static readonly byte[] s_block = MakeBlock();

    private static int ChunkLength => Period * 512;

    /// <summary>Makes <paramref name="length"/> bytes where byte <c>i</c> is <c>(i + seed) % 251</c>.</summary>
    public static byte[] Pattern(int length, int seed = 0)
    {
        byte[] bytes = GC.AllocateUninitializedArray<byte>(length);
        Fill(bytes, seed);
        return bytes;
    }

    /// <summary>Fills <paramref name="destination"/> with the pattern.</summary>
    public static void Fill(Span<byte> destination, int seed = 0)
    {
        for (int offset = 0; offset < destination.Length; offset += ChunkLength)
        {
            int length = Math.Min(ChunkLength, destination.Length - offset);
            s_block.AsSpan(Phase(offset, seed), length).CopyTo(destination.Slice(offset));
        }
    }

    /// <summary>Asserts that <paramref name="actual"/> is exactly the pattern of <paramref name="length"/> bytes.</summary>
    public static void AssertPattern(ReadOnlySpan<byte> actual, int length, int seed = 0)
    {
        Assert.Equal(length, actual.Length);
        for (int offset = 0; offset < actual.Length; offset += ChunkLength)
        {
            int chunk = Math.Min(ChunkLength, actual.Length - offset);
            ReadOnlySpan<byte> expected = s_block.AsSpan(Phase(offset, seed), chunk);
            ReadOnlySpan<byte> got = actual.Slice(offset, chunk);
            if (!got.SequenceEqual(expected))
            {
                int at = got.CommonPrefixLength(expected);
                Assert.Fail($"payload differs at byte {offset + at} of {length}: got {got[at]}, expected {expected[at]} (seed {seed})");
            }
        }
    }

    private static int Phase(int offset, int seed) => (int)(((long)offset + seed) % Period + Period) % Period;

    private static byte[] MakeBlock()
    {
        byte[] block = new byte[ChunkLength + Period];
        for (int i = 0; i < block.Length; i++)
        {
            block[i] = (byte)(i % Period);
        }

        return block;
    }
}
