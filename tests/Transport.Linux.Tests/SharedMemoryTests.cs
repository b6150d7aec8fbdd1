using System;
using System.Runtime.InteropServices;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Shared-memory regions (Rust: shared_memory*, §2.5): sealed memfds, mapped read-only, shared (never copied) with
/// the receiver, and impossible to modify through any route once created.
/// </summary>
public unsafe class SharedMemoryTests
{
    private const int MiB = 1024 * 1024;

    private static TransportSharedMemory RoundTrip(TransportSharedMemory region, ReadOnlySpan<byte> payload = default)
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send(payload, default, [region]);
            (byte[] received, ReceivedHandles? handles) = rx.ReceiveMessage();
            Assert.Equal(payload.ToArray(), received);
            using (handles)
            {
                Assert.Equal(0, handles!.ChannelCount);
                Assert.Equal(1, handles.RegionCount);
                return handles.TakeRegion(0);
            }
        }
    }

    private static nint Address(TransportSharedMemory region)
    {
        fixed (byte* p = region.Span)
        {
            return (nint)p;
        }
    }

    [Fact]
    [Trait("Rust", "shared_memory")]
    public void SharedMemory_SevenBytesAndOneMiBRegion_RoundTrip()
    {
        using TransportSharedMemory region = T.CreateSharedMemory(0xBA, MiB);
        using TransportSharedMemory received = RoundTrip(region, "1234567"u8);
        Assert.Equal(MiB, received.Length);
        Assert.Equal(-1, received.Span.IndexOfAnyExcept((byte)0xBA));
        Assert.Equal(-1, region.Span.IndexOfAnyExcept((byte)0xBA));
    }

    [Fact]
    [Trait("Rust", "shared_memory_clone")]
    public void Clone_ReadsSameBytes_AndOutlivesOriginal()
    {
        TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(70_000));
        using TransportSharedMemory clone = region.Clone();
        Assert.NotEqual(region.Fd().Number(), clone.Fd().Number());
        Assert.True(region.Span.SequenceEqual(clone.Span));
        region.Dispose();
        Assert.True(region.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => region.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => region.Clone());
        Payload.AssertPattern(clone.Span, 70_000);
        region.Dispose(); // idempotent
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    [InlineData(4097)]
    [Trait("Rust", "shared_memory_slice")]
    public void Region_Length_RoundTripsEqual(int length)
    {
        using TransportSharedMemory fromBytes = T.CreateSharedMemory(Payload.Pattern(length, seed: 42));
        using TransportSharedMemory fromByte = T.CreateSharedMemory(42, length);
        using TransportSharedMemory receivedBytes = RoundTrip(fromBytes);
        using TransportSharedMemory receivedByte = RoundTrip(fromByte);
        Assert.Equal(length, receivedBytes.Length);
        Payload.AssertPattern(receivedBytes.Span, length, seed: 42);
        Assert.Equal(length, receivedByte.Length);
        Assert.Equal(-1, receivedByte.Span.IndexOfAnyExcept((byte)42));
    }

    [Fact]
    [Trait("Rust", "shared_memory_take")]
    public void Take_CopiesBytesOut_AfterRegionIsGone()
    {
        byte[] taken;
        using (TransportSharedMemory region = T.CreateSharedMemory(0xBA, MiB))
        using (TransportSharedMemory received = RoundTrip(region))
        {
            taken = received.Span.ToArray();
        }

        Assert.Equal(MiB, taken.Length);
        Assert.Equal(-1, taken.AsSpan().IndexOfAnyExcept((byte)0xBA));
    }

    [Fact]
    public void Create_NegativeLength_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => T.CreateSharedMemory(1, -1));
    }

    [Fact]
    public void Regions_CreatedAndReceived_CarryEverySeal()
    {
        using TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(5000));
        using TransportSharedMemory filled = T.CreateSharedMemory(7, 5000);
        using TransportSharedMemory empty = T.CreateSharedMemory(ReadOnlySpan<byte>.Empty);
        using TransportSharedMemory received = RoundTrip(region);
        foreach (TransportSharedMemory r in new[] { region, filled, empty, received })
        {
            int seals = Interop.Fcntl(r.Fd(), Interop.F_GET_SEALS, 0);
            Assert.Equal(RawPeer.AllSeals, seals);
        }
    }

    [Fact]
    public void Regions_CannotBeWrittenThroughAnyRoute()
    {
        using TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(5000));
        using TransportSharedMemory received = RoundTrip(region);
        foreach (TransportSharedMemory r in new[] { region, received })
        {
            // A new shared writable mapping is refused (F_SEAL_WRITE)...
            nint mapping = Interop.MMap(0, 5000, Interop.PROT_READ | Interop.PROT_WRITE, Interop.MAP_SHARED, r.Fd(), 0);
            int errno = Marshal.GetLastPInvokeError();
            if (mapping != Interop.MAP_FAILED)
            {
                _ = Interop.MUnmap(mapping, 5000);
            }

            Assert.Equal(Interop.MAP_FAILED, mapping);
            Assert.Equal(Posix.EPERM, errno);

            // ...as are write(2) and resizing.
            byte one = 1;
            Assert.Equal(-1, Interop.PWrite(r.Fd(), &one, 1, 0));
            Assert.Equal(Posix.EPERM, Marshal.GetLastPInvokeError());
            Assert.Equal(-1, Interop.FTruncate(r.Fd(), 10));
            Assert.Equal(Posix.EPERM, Marshal.GetLastPInvokeError());
            Assert.Equal(-1, Interop.FTruncate(r.Fd(), 10_000));
            Assert.Equal(Posix.EPERM, Marshal.GetLastPInvokeError());

            // The seals themselves cannot be removed or changed.
            Assert.Equal(-1, Interop.Fcntl(r.Fd(), Interop.F_ADD_SEALS, Interop.F_SEAL_WRITE));
            Assert.Equal(Posix.EPERM, Marshal.GetLastPInvokeError());
            Payload.AssertPattern(r.Span, 5000);
        }
    }

    [Fact]
    public void Regions_AreMappedReadOnlyAndShared_ReceiverMapsTheSameFileNotACopy()
    {
        using TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(3 * MiB));
        using TransportSharedMemory received = RoundTrip(region);
        ProcFs.Mapping original = ProcFs.MappingAt(Address(region));
        ProcFs.Mapping mapped = ProcFs.MappingAt(Address(received));

        Assert.Equal("r--s", original.Permissions);
        Assert.Equal("r--s", mapped.Permissions);
        Assert.Contains("memfd:ipc-channel", original.Path, StringComparison.Ordinal);
        Assert.NotEqual(Address(region), Address(received));
        Assert.Equal(original.Inode, mapped.Inode); // the same memfd: pages shared, not copied
        Payload.AssertPattern(received.Span, 3 * MiB);
    }

    [Fact]
    public void Region_ReceivedCopy_OutlivesSendersRegion()
    {
        TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(10_000, seed: 3));
        using TransportSharedMemory received = RoundTrip(region);
        region.Dispose();
        Payload.AssertPattern(received.Span, 10_000, seed: 3);
    }

    [Fact]
    [Trait("Rust", "shared_memory_object_equality")]
    public void Region_SentTwice_BothCopiesEqualTheOriginal()
    {
        using TransportSharedMemory region = T.CreateSharedMemory(Payload.Pattern(999));
        using TransportSharedMemory first = RoundTrip(region);
        using TransportSharedMemory second = RoundTrip(region);
        Assert.True(region.Span.SequenceEqual(first.Span));
        Assert.True(region.Span.SequenceEqual(second.Span));
    }
}
