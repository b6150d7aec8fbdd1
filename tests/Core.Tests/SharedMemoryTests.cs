using System;
using System.Collections.Generic;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.TestChild;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>A person and a region (Rust's <c>(person, shmem)</c> tuples).</summary>
public sealed record PersonAndMemory(Named Person, IpcSharedMemory Memory);

/// <summary>Shared memory inside messages (Rust test.rs: shared_memory*).</summary>
public class SharedMemoryTests
{
    private static readonly Named s_person = new("Patrick Walton", 29);

    [Fact] // Rust: shared_memory
    public void Send_PersonAnd1MiBRegion_ArrivesWithEveryByte_AndTheOriginalIsMoved()
    {
        (IpcSender<PersonAndMemory> tx, IpcReceiver<PersonAndMemory> rx) = Ipc.Channel<PersonAndMemory>();
        using (tx)
        using (rx)
        {
            var memory = IpcSharedMemory.FromByte(0xBA, 1024 * 1024);
            Assert.Equal(1024 * 1024, memory.Length);
            Assert.True(memory.Span.IndexOfAnyExcept((byte)0xBA) < 0);
            tx.Send(new PersonAndMemory(s_person, memory));
            Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);

            PersonAndMemory received = rx.ReceiveWithin();
            using (received.Memory)
            {
                Assert.Equal(s_person, received.Person);
                Assert.Equal(1024 * 1024, received.Memory.Length);
                Assert.True(received.Memory.Span.IndexOfAnyExcept((byte)0xBA) < 0);
            }
        }
    }

    [Fact] // Rust: shared_memory_slice
    public void Send_EmptyAndSmallRegions_RoundTripEqual()
    {
        (IpcSender<List<IpcSharedMemory>> tx, IpcReceiver<List<IpcSharedMemory>> rx) = Ipc.Channel<List<IpcSharedMemory>>();
        using (tx)
        using (rx)
        {
            tx.Send([IpcSharedMemory.FromByte(42, 0), IpcSharedMemory.FromBytes([]), IpcSharedMemory.FromBytes([4, 5, 6])]);
            List<IpcSharedMemory> received = rx.ReceiveWithin();
            Assert.Equal(3, received.Count);
            Assert.Equal(0, received[0].Length);
            Assert.True(received[0].Span.IsEmpty);
            Assert.Equal(0, received[1].Length);
            Assert.Equal(new byte[] { 4, 5, 6 }, received[2].ToArray());
            using var empty = IpcSharedMemory.FromBytes([]);
            Assert.Equal(empty, received[0]);
            Assert.Equal(empty, received[1]);
            received.ForEach(m => m.Dispose());
        }
    }

    [Fact] // Rust: shared_memory_object_equality
    public void Send_PersonAndRegion_ReceivedEqualsTheSentValue()
    {
        (IpcSender<PersonAndMemory> tx, IpcReceiver<PersonAndMemory> rx) = Ipc.Channel<PersonAndMemory>();
        using (tx)
        using (rx)
        {
            byte[] contents = Numbered.Pattern(3, 10_000);
            tx.Send(new PersonAndMemory(s_person, IpcSharedMemory.FromBytes(contents)));
            using var expected = IpcSharedMemory.FromBytes(contents);
            PersonAndMemory received = rx.ReceiveWithin();
            using (received.Memory)
            {
                Assert.Equal(new PersonAndMemory(s_person, expected), received);
                Assert.Equal(expected.GetHashCode(), received.Memory.GetHashCode());
                using var different = IpcSharedMemory.FromBytes(Numbered.Pattern(4, 10_000));
                Assert.NotEqual(different, received.Memory);
            }
        }
    }

    [Fact] // Rust: shared_memory_take
    public void ToArray_OfAReceived1MiBRegion_YieldsItsBytes()
    {
        (IpcSender<IpcSharedMemory> tx, IpcReceiver<IpcSharedMemory> rx) = Ipc.Channel<IpcSharedMemory>();
        using (tx)
        using (rx)
        {
            byte[] contents = Numbered.Pattern(1, 1024 * 1024);
            tx.Send(IpcSharedMemory.FromBytes(contents));
            using IpcSharedMemory received = rx.ReceiveWithin();
            Assert.Equal(contents, received.ToArray());
        }
    }

    [Fact] // Rust: shared_memory_take_empty
    public void ToArray_OfAnEmptyRegion_IsEmpty()
    {
        (IpcSender<IpcSharedMemory> tx, IpcReceiver<IpcSharedMemory> rx) = Ipc.Channel<IpcSharedMemory>();
        using (tx)
        using (rx)
        {
            tx.Send(IpcSharedMemory.FromBytes([]));
            using IpcSharedMemory received = rx.ReceiveWithin();
            Assert.Empty(received.ToArray());
        }
    }

    [Fact] // Semantics: IpcSharedMemory that is sent is mapped, not copied, by the receiver
    public void Receive_Region_IsMappedFromTheSameMemoryObject_NotCopied()
    {
        (IpcSender<IpcSharedMemory> tx, IpcReceiver<IpcSharedMemory> rx) = Ipc.Channel<IpcSharedMemory>();
        using (tx)
        using (rx)
        {
            var original = IpcSharedMemory.FromByte(0x5A, 256 * 1024);
            Mapping sent = ProcMaps.Containing(ProcMaps.AddressOf(original.Span)) ?? throw new InvalidOperationException("the region is not mapped");
            Assert.Contains("memfd:", sent.Path, StringComparison.Ordinal);
            tx.Send(original);

            using IpcSharedMemory received = rx.ReceiveWithin();
            Mapping arrived = ProcMaps.Containing(ProcMaps.AddressOf(received.Span)) ?? throw new InvalidOperationException("the received region is not mapped");
            Assert.Contains("memfd:", arrived.Path, StringComparison.Ordinal);
            Assert.Equal(sent.Inode, arrived.Inode);
            Assert.DoesNotContain('w', arrived.Permissions);
            Assert.Equal(0x5A, received.Span[256 * 1024 - 1]);
        }
    }

    [Fact] // Semantics: a received region stays valid after its channel is gone
    public void Region_AfterItsChannelIsDisposed_IsStillReadable_UntilDisposed()
    {
        (IpcSender<IpcSharedMemory> tx, IpcReceiver<IpcSharedMemory> rx) = Ipc.Channel<IpcSharedMemory>();
        tx.Send(IpcSharedMemory.FromBytes([1, 2, 3, 4]));
        IpcSharedMemory received = rx.ReceiveWithin();
        tx.Dispose();
        rx.Dispose();
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, received.ToArray());
        received.Dispose();
        received.Dispose();
        Assert.Throws<ObjectDisposedException>(() => received.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => received.ToArray());
        Assert.Equal("IpcSharedMemory (closed)", received.ToString());
    }

    [Fact] // Rust #395: more handles than one control message carries (64 in Rust, 253 in the kernel)
    public void Send_300RegionsInOneMessage_AllArrive()
    {
        (IpcSender<IpcSharedMemory[]> tx, IpcReceiver<IpcSharedMemory[]> rx) = Ipc.Channel<IpcSharedMemory[]>();
        using (tx)
        using (rx)
        {
            var regions = new IpcSharedMemory[300];
            for (int i = 0; i < regions.Length; i++)
            {
                regions[i] = IpcSharedMemory.FromBytes([(byte)i, (byte)(i >> 8)]);
            }

            tx.Send(regions);
            IpcSharedMemory[] received = rx.ReceiveWithin();
            Assert.Equal(300, received.Length);
            for (int i = 0; i < received.Length; i++)
            {
                Assert.Equal(new[] { (byte)i, (byte)(i >> 8) }, received[i].ToArray());
                received[i].Dispose();
            }
        }
    }

    [Fact]
    public void FromByte_NegativeLength_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IpcSharedMemory.FromByte(1, -1));
    }
}
