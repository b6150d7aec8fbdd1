using System;
using System.Threading.Tasks;
using System.Buffers;
using System.Collections.Generic;
using System.Net.Sockets;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Serialization;
using IpcChannel.TestChild;
using IpcChannel.Transport;
using IpcChannel.Transport.Linux;
using MessagePack;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>A record with two senders, for messages that fail half-way through their handles.</summary>
public sealed record SenderPair(IpcSender<int> A, IpcSender<int> B);

/// <summary>A sender then a number.</summary>
public sealed record SenderThenNumber(IpcSender<int> A, int X);

/// <summary>
/// A hostile peer writes raw frames (through the internal transport, as another process could): every bad
/// message must raise <see cref="IpcSerializationException"/> on that receive only, close every descriptor it
/// carried (claimed or not), and leave the channel usable.
/// </summary>
[Collection(FdSensitiveCollection.Name)]
public class HostileInputTests
{
    private delegate void WriteBody(ref MessagePackWriter writer);

    [Fact]
    public void Receive_BodyThatIsNotMessagePack_ThrowsSerialization_ThenUsable()
    {
        AssertRefused<Named>([0xC1, 0xC1]);
    }

    [Fact]
    public void Receive_TruncatedBody_ThrowsSerialization_ThenUsable()
    {
        byte[] whole = MessagePackSerializer.Serialize(new Named("Patrick Walton", 29), IpcSerializerOptions.Default.MessagePackOptions);
        AssertRefused<Named>(whole[..^3]);
    }

    [Fact]
    public void Receive_BytesAfterTheValue_ThrowsSerialization_ThenUsable()
    {
        AssertRefused<int>([.. MessagePackSerializer.Serialize(5), 0x01]);
    }

    [Fact]
    public void Receive_WrongType_ThrowsSerialization_ThenUsable()
    {
        AssertRefused<Named>(MessagePackSerializer.Serialize("a string, not a person"));
        AssertRefused<int>(MessagePackSerializer.Serialize(new Named("x", 1), IpcSerializerOptions.Default.MessagePackOptions));
        AssertRefused<IpcSender<int>>(MessagePackSerializer.Serialize(17));
    }

    [Fact]
    public void Receive_HandleIndexOutOfRange_ThrowsSerialization_AndClosesTheHandle()
    {
        AssertRefused<IpcSender<int>>(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, 5)), channels: 1);
    }

    [Fact]
    public void Receive_NegativeHandleIndex_ThrowsSerialization_AndClosesTheHandle()
    {
        AssertRefused<IpcSender<int>>(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, -1)), channels: 1);
    }

    [Fact]
    public void Receive_HandleReferenceWithoutAnyHandle_ThrowsSerialization()
    {
        AssertRefused<IpcSender<int>>(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, 0)));
        AssertRefused<IpcSharedMemory>(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.RegionExtension, 0)));
    }

    [Fact]
    public void Receive_MoreChannelsThanTheValueRefersTo_ThrowsSerialization_AndClosesThemAll()
    {
        AssertRefused<int>(MessagePackSerializer.Serialize(5), channels: 2);
        AssertRefused<IpcSender<int>>(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, 1)), channels: 3);
    }

    [Fact]
    public void Receive_ExtraSharedMemoryRegions_ThrowsSerialization_AndUnmapsAndClosesThem()
    {
        AssertRefused<int>(MessagePackSerializer.Serialize(5), regions: 2);
        AssertRefused<string>(MessagePackSerializer.Serialize("text"), channels: 1, regions: 1);
    }

    [Fact]
    public void Receive_SameHandleReferencedTwice_ThrowsSerialization_AndClosesTheOneAlreadyClaimed()
    {
        AssertRefused<IpcSender<int>[]>(
            Body((ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(2);
                HandleWire.Write(ref w, HandleWire.ChannelExtension, 0);
                HandleWire.Write(ref w, HandleWire.ChannelExtension, 0);
            }),
            channels: 1);
    }

    [Fact]
    public void Receive_WrongKindOfHandle_ThrowsSerialization_AndClosesIt()
    {
        AssertRefused<IpcSharedMemory>(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, 0)), channels: 1);
        AssertRefused<IpcReceiver<int>>(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.RegionExtension, 0)), regions: 1);
    }

    [Fact]
    public void Receive_FailureAfterSomeHandlesWereClaimed_ClosesTheClaimedOnesToo()
    {
        // A is claimed (an IpcSender<int> is created), then B's index is out of range.
        AssertRefused<SenderPair>(
            Body((ref MessagePackWriter w) =>
            {
                w.WriteMapHeader(2);
                w.Write("A");
                HandleWire.Write(ref w, HandleWire.ChannelExtension, 0);
                w.Write("B");
                HandleWire.Write(ref w, HandleWire.ChannelExtension, 7);
            }),
            channels: 2);

        // A is claimed, then X is not a number.
        AssertRefused<SenderThenNumber>(
            Body((ref MessagePackWriter w) =>
            {
                w.WriteMapHeader(2);
                w.Write("A");
                HandleWire.Write(ref w, HandleWire.ChannelExtension, 0);
                w.Write("X");
                w.Write("not a number");
            }),
            channels: 1);
    }

    [Fact]
    public void Receive_DatagramThatIsNotAnIpcChannelFrame_ThrowsSerialization_ThenUsable()
    {
        (TransportSender raw, TransportReceiver end) = IpcTransports.Current.CreateChannel();
        using var rx = new IpcReceiver<int>(end, IpcSerializerOptions.Default);
        using (raw)
        {
            Dictionary<int, string> before = Fds.Baseline();
            SafeFdHandle socketHandle = ((LinuxSender)raw).Handle;
            using (var socket = new Socket(new SafeSocketHandle(socketHandle.DangerousGetHandle(), ownsHandle: false)))
            {
                socket.Send("this is not a frame header"u8);
                socket.Send([1, 2, 3]);
            }

            Assert.Throws<IpcSerializationException>(() => rx.ReceiveWithin());
            Assert.Throws<IpcSerializationException>(() => rx.ReceiveWithin());
            raw.Send(MessagePackSerializer.Serialize(8), default, default);
            Assert.Equal(8, rx.ReceiveWithin());
            Fds.AssertNoneOpenedSince(before, "after garbage frames");
        }
    }

    [Theory] // Rust #392 / Windows test_recover_handles_fails_with_invalid_handles: never trust the peer's descriptors
    [InlineData("memfd")]
    [InlineData("stream socket")]
    public void Receive_ReceiverSlotHoldingADescriptorThatIsNotAChannel_ThrowsSerialization_AndClosesIt(string kind)
    {
        (TransportSender raw, TransportReceiver end) = IpcTransports.Current.CreateChannel();
        using var rx = new IpcReceiver<IpcReceiver<int>>(end, IpcSerializerOptions.Default);
        using (raw)
        using (LinuxSender fake = Impostor(kind))
        {
            Dictionary<int, string> before = Fds.Baseline();
            raw.Send(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, 0)), [fake], default);
            Assert.Throws<IpcSerializationException>(() => rx.ReceiveWithin());
            Fds.AssertNoneOpenedSince(before, $"after refusing a {kind} in a receiver slot");

            (IpcSender<int> realTx, IpcReceiver<int> realRx) = Ipc.Channel<int>();
            using (realTx)
            {
                raw.Send(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, 0)), [End(realRx)], default);
                realRx.Dispose();
                using IpcReceiver<int> arrived = rx.ReceiveWithin();
                realTx.Send(3);
                Assert.Equal(3, arrived.ReceiveWithin());
            }
        }
    }

    [Theory] // a received sender is checked before its first send: passing it on costs no system call
    [InlineData("memfd")]
    [InlineData("stream socket")]
    public async Task Send_OnASenderSlotHoldingADescriptorThatIsNotAChannel_ThrowsIpcException_SendsNothing_AndDisposeClosesIt(string kind)
    {
        (TransportSender raw, TransportReceiver end) = IpcTransports.Current.CreateChannel();
        using var rx = new IpcReceiver<IpcSender<int>>(end, IpcSerializerOptions.Default);
        using (raw)
        using (LinuxSender fake = Impostor(kind))
        {
            Dictionary<int, string> before = Fds.Baseline();
            raw.Send(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, 0)), [fake], default);
            IpcSender<int> impostor = rx.ReceiveWithin();
            IpcException error = Assert.Throws<IpcException>(() => impostor.Send(1));
            Assert.IsNotType<IpcDisconnectedException>(error);
            Assert.Contains("not a SOCK_SEQPACKET socket", error.Message);
            await Assert.ThrowsAsync<IpcException>(() => impostor.SendAsync(2).AsTask());
            using (IpcSender<int> clone = impostor.Clone())
            {
                Assert.Throws<IpcException>(() => clone.Send(3));
            }

            impostor.Dispose();
            Fds.AssertNoneOpenedSince(before, $"after a {kind} in a sender slot was disposed");

            // The channel that carried it is unharmed, and a real sender in the same slot works.
            (IpcSender<int> realTx, IpcReceiver<int> realRx) = Ipc.Channel<int>();
            using (realRx)
            {
                raw.Send(Body((ref MessagePackWriter w) => HandleWire.Write(ref w, HandleWire.ChannelExtension, 0)), [End(realTx)], default);
                realTx.Dispose();
                using IpcSender<int> arrived = rx.ReceiveWithin();
                arrived.Send(3);
                Assert.Equal(3, realRx.ReceiveWithin());
            }
        }
    }

    private static LinuxSender Impostor(string kind)
    {
        SafeFdHandle impostor = kind == "memfd"
            ? Frames.CreateMemfd(64)
            : new SafeFdHandle(Interop.Socket(Interop.AF_UNIX, Interop.SOCK_STREAM | Interop.SOCK_CLOEXEC, 0));
        Assert.False(impostor.IsInvalid);
        return new LinuxSender(impostor);
    }

    [Fact]
    public void Deserialize_HostileMessageFromAReceiverSet_ThrowsSerialization_AndClosesItsHandles()
    {
        (TransportSender raw, TransportReceiver end) = IpcTransports.Current.CreateChannel();
        using var set = new IpcReceiverSet();
        set.Add(new IpcReceiver<int>(end, IpcSerializerOptions.Default));
        (IpcSender<int> victimTx, IpcReceiver<int> victimRx) = Ipc.Channel<int>();
        using (raw)
        using (victimRx)
        {
            Dictionary<int, string> before = Fds.Baseline();
            raw.Send(MessagePackSerializer.Serialize(5), [End(victimTx)], default);
            victimTx.Dispose();

            IpcMessageReceived received = Assert.IsType<IpcMessageReceived>(Assert.Single(set.SelectAtLeast(1)));
            Assert.True(received.Message.HasHandles);
            Assert.Throws<IpcSerializationException>(() => received.Message.Deserialize<int>());
            received.Message.Dispose();
            victimRx.AssertDisconnectedWithin();
            Fds.AssertNoneOpenedSince(before, "after a refused message from a receiver set");
        }
    }

    [Fact]
    public void Router_HostileMessage_IsLoggedAndItsHandlesClosed_AndLaterMessagesStillArrive()
    {
        var logger = new CapturingLogger();
        using var router = new IpcRouter(logger);
        (TransportSender raw, TransportReceiver end) = IpcTransports.Current.CreateChannel();
        (IpcSender<int> victimTx, IpcReceiver<int> victimRx) = Ipc.Channel<int>();
        var seen = new System.Collections.Concurrent.BlockingCollection<int>();
        using (raw)
        using (victimRx)
        {
            router.AddRoute(new IpcReceiver<int>(end, IpcSerializerOptions.Default), seen.Add);
            raw.Send(MessagePackSerializer.Serialize(1), default, default);
            raw.Send([0xC1], default, default);
            raw.Send(MessagePackSerializer.Serialize(2), [End(victimTx)], default);
            victimTx.Dispose();
            raw.Send(MessagePackSerializer.Serialize(3), default, default);

            Assert.True(seen.TryTake(out int first, ReceiveExtensions.Patience));
            Assert.True(seen.TryTake(out int second, ReceiveExtensions.Patience));
            Assert.Equal((1, 3), (first, second));
            logger.WaitFor(2);
            Assert.All(logger.Entries, e => Assert.IsAssignableFrom<IpcSerializationException>(e.Error));
            victimRx.AssertDisconnectedWithin();
        }
    }

    /// <summary>
    /// Sends <paramref name="body"/> with <paramref name="channels"/> sender ends and <paramref name="regions"/>
    /// regions attached, and asserts: the receive throws <see cref="IpcSerializationException"/>; no descriptor or
    /// mapping of the message survives (each attached channel reports its disconnection once our copy closes);
    /// the next message arrives.
    /// </summary>
    private static void AssertRefused<T>(byte[] body, int channels = 0, int regions = 0)
    {
        Dictionary<int, string> initial = Fds.Baseline();
        int initialMappings = ProcMaps.Count("memfd:ipc-channel");
        (TransportSender raw, TransportReceiver end) = IpcTransports.Current.CreateChannel();
        var rx = new IpcReceiver<T>(end, IpcSerializerOptions.Default);
        var victims = new List<(IpcSender<int> Tx, IpcReceiver<int> Rx)>();
        for (int i = 0; i < channels; i++)
        {
            victims.Add(Ipc.Channel<int>());
        }

        var memories = new List<IpcSharedMemory>();
        for (int i = 0; i < regions; i++)
        {
            memories.Add(IpcSharedMemory.FromByte((byte)i, 4096 * (i + 1)));
        }

        try
        {
            Dictionary<int, string> before = Fds.Baseline();
            int mappingsBefore = ProcMaps.Count("memfd:ipc-channel");
            raw.Send(
                body,
                victims.ConvertAll(v => End(v.Tx)).ToArray(),
                memories.ConvertAll(m => m.RegionForTransfer).ToArray());

            Assert.Throws<IpcSerializationException>(() => rx.ReceiveWithin());
            Fds.AssertNoneOpenedSince(before, $"after refusing a message for {typeof(T).Name}");
            Assert.Equal(mappingsBefore, ProcMaps.Count("memfd:ipc-channel"));

            // Every copy that travelled was closed: once ours go too, the channels are disconnected.
            foreach ((IpcSender<int> tx, IpcReceiver<int> victimRx) in victims)
            {
                tx.Dispose();
                victimRx.AssertDisconnectedWithin();
            }

            // The channel is still usable.
            raw.Send(MessagePackSerializer.Serialize("next"), default, default);
            using (IpcReceiver<string> next = rx.ToOpaque().To<string>())
            {
                Assert.Equal("next", next.ReceiveWithin());
            }
        }
        finally
        {
            raw.Dispose();
            rx.Dispose();
            foreach ((IpcSender<int> tx, IpcReceiver<int> victimRx) in victims)
            {
                tx.Dispose();
                victimRx.Dispose();
            }

            foreach (IpcSharedMemory memory in memories)
            {
                memory.Dispose();
            }
        }

        Fds.AssertNoneOpenedSince(initial, "after disposing everything");
        Assert.Equal(initialMappings, ProcMaps.Count("memfd:ipc-channel"));
    }

    private static TransportChannelEnd End(IIpcChannelHandle handle) => handle.EndForTransfer;

    private static byte[] Body(WriteBody write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
