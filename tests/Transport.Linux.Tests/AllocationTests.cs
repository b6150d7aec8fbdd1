using System;
using System.Buffers;
using System.Collections.Generic;
using IpcChannel.Tests.Support;
using IpcChannel.Transport;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Issue #5's goal: a bytes message allocates nothing in steady state, at every size and so on every path (inline
/// datagram, body streamed on a per-message socketpair, body in a sealed memfd). Send and receive run on one
/// dedicated thread (<see cref="AllocationMeter"/>), so <see cref="GC.GetAllocatedBytesForCurrentThread"/> sees
/// both sides and nothing else.
/// </summary>
/// <remarks>
/// The assertions are exact (0 bytes, no tolerance): the warm-up absorbs first-use allocations (lazy statics, the
/// array pool's per-thread buckets, a destination that grows to the largest message). In the serial collection,
/// because they also check that no descriptor outlives a message.
/// </remarks>
[Collection(SerialCollection.Name)]
public class AllocationTests
{
    private const int WarmupRounds = 50;
    private const int MeasuredRounds = 200;

    [Theory]
    [InlineData(8)]
    [InlineData(64 * 1024)] // inline datagram
    [InlineData(Frames.MaxInlineBody + 1)] // the smallest body streamed on a side channel
    [InlineData(1024 * 1024)] // streamed on a side channel
    [InlineData(16 * 1024 * 1024)] // in a sealed memfd
    public void BytesMessage_SteadyState_AllocatesNothing(int size)
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            byte[] payload = Payload.Pattern(size);
            var writer = new ArrayWriter(new ArrayBufferWriter<byte>(Math.Max(size, 256)));
            int failures = 0;
            IReadOnlyList<long> allocated = AllocationMeter.AllocatedPerWindow(
                () => RoundTrips(tx, rx, writer, payload, WarmupRounds),
                () => failures += RoundTrips(tx, rx, writer, payload, MeasuredRounds));

            Assert.Equal(0, failures);
            Payload.AssertPattern(writer.WrittenSpan, size);
            Assert.True(allocated[^1] == 0, $"every window of {MeasuredRounds} round trips of {size} bytes allocated: {string.Join(", ", allocated)} bytes");
        }

        leaks.AssertNoLeak();
    }

    [Fact]
    public void BytesMessages_OfMixedSizes_IntoATightDestination_AllocateNothing()
    {
        // The destination offers exactly the room asked for, and the receiver asks for the previous message's
        // size: a larger message after a smaller one overflows into the receive's pooled spill buffer.
        int[] sizes = [8, 64 * 1024, 8, Frames.MaxInlineBody, 300_000, 16, 1024 * 1024, 100_000, 8 * 1024 * 1024, 1];
        byte[][] payloads = Array.ConvertAll(sizes, size => Payload.Pattern(size, seed: size));
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var writer = new TightWriter(8 * 1024 * 1024);
            int failures = 0;
            IReadOnlyList<long> allocated = AllocationMeter.AllocatedPerWindow(
                () => MixedRounds(tx, rx, writer, payloads),
                () => failures += MixedRounds(tx, rx, writer, payloads));

            Assert.Equal(0, failures);
            Assert.True(allocated[^1] == 0, $"every window of {20 * sizes.Length} round trips of mixed sizes allocated: {string.Join(", ", allocated)} bytes");
            Assert.True(writer.SpillSeen, "no message overflowed the destination's first span: the spill path was not exercised");
        }

        leaks.AssertNoLeak();
    }

    /// <summary>Twenty rounds of every payload in turn; returns how many came back wrong.</summary>
    private static int MixedRounds(TransportSender tx, TransportReceiver rx, IResettableWriter writer, byte[][] payloads)
    {
        int failures = 0;
        for (int round = 0; round < 20; round++)
        {
            foreach (byte[] payload in payloads)
            {
                failures += RoundTrips(tx, rx, writer, payload, 1);
            }
        }

        return failures;
    }

    /// <summary>Sends and receives <paramref name="rounds"/> messages; returns how many came back wrong (no allocation, no assertion).</summary>
    private static int RoundTrips(TransportSender tx, TransportReceiver rx, IResettableWriter writer, byte[] payload, int rounds)
    {
        int failures = 0;
        for (int i = 0; i < rounds; i++)
        {
            tx.Send(payload, default, default);
            writer.ResetWrittenCount();
            ReceiveStatus status = rx.Receive(ReceiveBound, writer, out ReceivedHandles? handles);
            if (status != ReceiveStatus.Message || handles is not null || !writer.WrittenSpan.SequenceEqual(payload))
            {
                handles?.Dispose();
                failures++;
            }
        }

        return failures;
    }

    private interface IResettableWriter : IBufferWriter<byte>
    {
        ReadOnlySpan<byte> WrittenSpan { get; }

        void ResetWrittenCount();
    }

    /// <summary>A reused <see cref="ArrayBufferWriter{T}"/>, made once per test.</summary>
    private sealed class ArrayWriter(ArrayBufferWriter<byte> inner) : IResettableWriter
    {
        public ReadOnlySpan<byte> WrittenSpan => inner.WrittenSpan;

        public void ResetWrittenCount() => inner.ResetWrittenCount();

        public void Advance(int count) => inner.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    }

    /// <summary>A fixed-capacity destination whose spans are exactly as long as asked for (at least 1 byte).</summary>
    private sealed class TightWriter(int capacity) : IResettableWriter
    {
        private readonly byte[] _buffer = new byte[capacity];
        private int _written;
        private int _spans;

        /// <summary>Whether a receive ever wrote with more than one span (the pooled spill buffer was used).</summary>
        public bool SpillSeen { get; private set; }

        public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

        public void ResetWrittenCount()
        {
            _written = 0;
            _spans = 0;
        }

        public void Advance(int count)
        {
            _written += count;
            _spans++;
            SpillSeen |= _spans > 1;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(_written, Math.Max(sizeHint, 1));

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(_written, Math.Max(sizeHint, 1));
    }
}
