using System;
using System.Buffers;
using System.Runtime.InteropServices;
using IpcChannel.Serialization;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>The receive and send buffer of typed channels: large buffers are not kept in a pool.</summary>
public class PooledBufferWriterTests
{
    [Fact]
    public void Reset_AfterALargeMessage_TheBufferIsNotGivenToThePool()
    {
        var writer = new PooledBufferWriter();
        int size = 2 * PooledBufferWriter.PoolLimit;
        writer.GetSpan(size).Slice(0, size).Fill(7);
        writer.Advance(size);
        Assert.True(MemoryMarshal.TryGetArray(writer.WrittenMemory, out ArraySegment<byte> segment));
        byte[] large = segment.Array!;

        writer.Reset();

        // The shared pool hands a just-returned array back to the same thread: it must not have this one.
        byte[] rented = ArrayPool<byte>.Shared.Rent(large.Length);
        try
        {
            Assert.NotSame(large, rented);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        writer.Dispose();
    }

    [Fact]
    public void Reset_AfterASmallMessage_KeepsItsBuffer()
    {
        var writer = new PooledBufferWriter();
        writer.GetSpan(1000);
        writer.Advance(1000);
        Assert.True(MemoryMarshal.TryGetArray(writer.WrittenMemory, out ArraySegment<byte> before));

        writer.Reset();
        writer.GetSpan(10);
        writer.Advance(10);

        Assert.True(MemoryMarshal.TryGetArray(writer.WrittenMemory, out ArraySegment<byte> after));
        Assert.Same(before.Array, after.Array);
        writer.Dispose();
    }
}
