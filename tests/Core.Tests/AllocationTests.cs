using System;
using System.Buffers;
using System.Collections.Generic;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>
/// Issue #5's goal, through the public API: <see cref="IpcBytesSender.Send"/> and
/// <see cref="IpcBytesReceiver.Receive(IBufferWriter{byte})"/> into a reused <see cref="ArrayBufferWriter{T}"/>
/// allocate 0 bytes per message in steady state, at every size (inline, streamed on a side channel, sealed memfd).
/// </summary>
/// <remarks>
/// Exact assertion, no tolerance: the warm-up absorbs first-use allocations (lazy statics, the pool's
/// per-thread buckets, the writer growing to the message). Both ends run on one dedicated thread
/// (<see cref="AllocationMeter"/>), which <see cref="GC.GetAllocatedBytesForCurrentThread"/> measures, over
/// consecutive windows, so a one-off allocation of the runtime is not charged to the channel. Not parallel: it
/// also checks descriptors.
/// </remarks>
[Collection(FdSensitiveCollection.Name)]
public class AllocationTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(64 * 1024)]
    [InlineData(1024 * 1024)]
    [InlineData(16 * 1024 * 1024)]
    public void BytesChannel_SendAndReceiveIntoAReusedWriter_AllocatesNothingPerMessage(int size)
    {
        const int Warmup = 50;
        const int Measured = 200;
        Dictionary<int, string> baseline = Fds.Baseline();
        (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
        using (tx)
        using (rx)
        {
            byte[] payload = new byte[size];
            new Random(size).NextBytes(payload);
            var writer = new ArrayBufferWriter<byte>(Math.Max(size, 256));
            int wrong = 0;
            IReadOnlyList<long> allocated = AllocationMeter.AllocatedPerWindow(
                () => wrong += RoundTrips(tx, rx, writer, payload, Warmup),
                () => wrong += RoundTrips(tx, rx, writer, payload, Measured));

            Assert.Equal(0, wrong);
            Assert.True(allocated[^1] == 0, $"every window of {Measured} messages of {size} bytes allocated: {string.Join(", ", allocated)} bytes");
        }

        Fds.AssertNoneOpenedSince(baseline, "bytes messages of every size");
    }

    /// <summary>Sends and receives <paramref name="rounds"/> messages; returns how many came back wrong (no allocation).</summary>
    private static int RoundTrips(IpcBytesSender tx, IpcBytesReceiver rx, ArrayBufferWriter<byte> writer, byte[] payload, int rounds)
    {
        int wrong = 0;
        for (int i = 0; i < rounds; i++)
        {
            tx.Send(payload);
            writer.ResetWrittenCount();
            rx.Receive(writer);
            wrong += writer.WrittenSpan.SequenceEqual(payload) ? 0 : 1;
        }

        return wrong;
    }
}
