using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using IpcChannel.Transport.MacOS.Tests.Support;
using Xunit;
using static IpcChannel.Transport.MacOS.Interop;

namespace IpcChannel.Transport.MacOS.Tests;

/// <summary>
/// <see cref="MachMessageReader"/> against well-formed messages, kernel notifications and a hostile peer's messages:
/// every violation is an <see cref="IpcSerializationException"/>, and every right or range the kernel handed over is
/// still found for release.
/// </summary>
public class MachMessageReaderTests
{
    private const uint LocalPort = 0x2203;
    private static readonly PeerCredentials Peer = new(4321, 501, 20);

    /// <summary>A received data message: <paramref name="channels"/> senders, one 64-byte region, payload inline or out of line.</summary>
    private static byte[] Received(int payloadLength = 7, int channels = 1, bool outOfLine = false)
    {
        var ports = new List<MachPortDescriptor>();
        for (int i = 0; i < channels; i++)
        {
            ports.Add(new MachPortDescriptor((uint)(0x100 + i), MACH_MSG_TYPE_COPY_SEND));
        }

        ports.Add(new MachPortDescriptor(0x500, MACH_MSG_TYPE_COPY_SEND));
        byte[] payload = new byte[payloadLength];
        payload.AsSpan().Fill(0x5A);
        MachOolDescriptor[] ool = outOfLine ? [new MachOolDescriptor(0x4000_0000, (uint)payloadLength, false, MACH_MSG_VIRTUAL_COPY)] : [];
        var message = new MachOutgoingMessage(0x99, MachWire.DataMessageId, ports.ToArray(), ool, payloadLength, channels, [64], outOfLine ? default : payload);
        byte[] sent = new byte[MachMessageWriter.GetSize(message)];
        MachMessageWriter.Write(sent, message);
        return KernelImage.Deliver(sent, LocalPort, Peer);
    }

    private static int InlineOffset(byte[] image)
    {
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(24));
        int offset = 28;
        for (int i = 0; i < count; i++)
        {
            offset += image[offset + 11] == MACH_MSG_PORT_DESCRIPTOR ? 12 : 16;
        }

        return offset;
    }

    private static void AssertMalformed(byte[] image, int maxMessageSize = int.MaxValue) =>
        Assert.Throws<IpcSerializationException>(() => MachMessageReader.Parse(image, maxMessageSize));

    [Fact]
    public void Parse_InlineDataMessage_ReturnsPayloadChannelsRegionsAndSender()
    {
        byte[] image = Received();

        MachParsedMessage message = MachMessageReader.Parse(image, int.MaxValue);

        Assert.Equal(MachMessageKind.Data, message.Kind);
        Assert.Equal(LocalPort, message.LocalPort);
        Assert.Equal(Peer, message.Sender);
        Assert.Equal(7, message.PayloadLength);
        Assert.All(image.AsSpan(message.InlinePayloadOffset, 7).ToArray(), b => Assert.Equal(0x5A, b));
        Assert.Equal([new MachReceivedRight(0x100 + KernelImage.Offset, MACH_MSG_TYPE_PORT_SEND)], message.Channels);
        Assert.Equal([64], message.RegionLengths);
        Assert.Equal([new MachReceivedRight(0x500 + KernelImage.Offset, MACH_MSG_TYPE_PORT_SEND)], message.RegionEntries);
    }

    [Fact]
    public void Parse_OutOfLinePayload_ReturnsItsRange()
    {
        byte[] image = Received(payloadLength: 1 << 20, outOfLine: true);

        MachParsedMessage message = MachMessageReader.Parse(image, int.MaxValue);

        Assert.Equal(-1, message.InlinePayloadOffset);
        Assert.Equal(1 << 20, message.PayloadLength);
        Assert.Equal(new MachReceivedMemory(0x4000_0000 + 0x10_0000_0000, 1 << 20), message.OutOfLinePayload);
    }

    [Fact]
    public void Parse_NoSendersNotificationFromTheKernel_IsClosed()
    {
        MachParsedMessage message = MachMessageReader.Parse(KernelImage.Notification(MACH_NOTIFY_NO_SENDERS, LocalPort), int.MaxValue);

        Assert.Equal(MachMessageKind.NoSenders, message.Kind);
        Assert.Equal(LocalPort, message.LocalPort);
    }

    [Fact]
    public void Parse_NoSendersIdFromAProcess_IsMalformedNotClosed()
    {
        AssertMalformed(KernelImage.Notification(MACH_NOTIFY_NO_SENDERS, LocalPort, fromKernel: false));
    }

    [Fact]
    public void Parse_NoSendersNotThroughTheSendOnceRight_IsMalformed()
    {
        AssertMalformed(KernelImage.Notification(MACH_NOTIFY_NO_SENDERS, LocalPort, localDisposition: MACH_MSG_TYPE_PORT_SEND));
    }

    [Fact]
    public void Parse_OtherKernelNotification_IsSkippable()
    {
        MachParsedMessage message = MachMessageReader.Parse(KernelImage.Notification(MACH_NOTIFY_SEND_ONCE, LocalPort), int.MaxValue);

        Assert.Equal(MachMessageKind.KernelNotification, message.Kind);
    }

    [Fact]
    public void Parse_Hello_CarriesOneReceiveRight()
    {
        var message = new MachOutgoingMessage(0x99, MachWire.HelloMessageId, [new MachPortDescriptor(0x700, MACH_MSG_TYPE_MOVE_RECEIVE)], default, 0, 1, default, default);
        byte[] sent = new byte[MachMessageWriter.GetSize(message)];
        MachMessageWriter.Write(sent, message);

        MachParsedMessage parsed = MachMessageReader.Parse(KernelImage.Deliver(sent, LocalPort, Peer), 0);

        Assert.Equal(MachMessageKind.Hello, parsed.Kind);
        Assert.Equal(Peer, parsed.Sender);
        Assert.Equal(MACH_MSG_TYPE_PORT_RECEIVE, parsed.Channels[0].Disposition);
    }

    [Fact]
    public void Parse_HelloWithASendRight_IsMalformed()
    {
        var message = new MachOutgoingMessage(0x99, MachWire.HelloMessageId, [new MachPortDescriptor(0x700, MACH_MSG_TYPE_COPY_SEND)], default, 0, 1, default, default);
        byte[] sent = new byte[MachMessageWriter.GetSize(message)];
        MachMessageWriter.Write(sent, message);

        AssertMalformed(KernelImage.Deliver(sent, LocalPort, Peer));
    }

    [Fact]
    public void Parse_SenderThatDiedInTransit_IsAcceptedAsADeadName()
    {
        byte[] image = Received();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(28), MACH_PORT_DEAD);

        MachParsedMessage message = MachMessageReader.Parse(image, int.MaxValue);

        Assert.Equal(MACH_PORT_DEAD, message.Channels[0].Name);
    }

    [Fact]
    public void Parse_TooShortForAHeader_IsMalformed() => AssertMalformed(new byte[20]);

    [Fact]
    public void Parse_SizeBeyondTheBuffer_IsMalformed()
    {
        byte[] image = Received();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(4), (uint)image.Length + 4);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_UnalignedSize_IsMalformed()
    {
        byte[] image = Received();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(4), BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(4)) - 2);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_TrailerMissing_IsMalformed()
    {
        byte[] image = Received();
        int size = (int)MachMessageReader.ReadSize(image);
        AssertMalformed(image.AsSpan(0, size).ToArray());
    }

    [Fact]
    public void Parse_TrailerWithoutAuditToken_IsMalformed()
    {
        byte[] image = Received();
        int size = (int)MachMessageReader.ReadSize(image);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(size + 4), 8);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_DescriptorCountLying_IsMalformed()
    {
        byte[] image = Received();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 5);
        AssertMalformed(image);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 1000);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_DescriptorCountDisagreeingWithTheHeader_IsMalformed()
    {
        byte[] image = Received(channels: 2);
        int inline = InlineOffset(image);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(inline + 12), 1);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_WrongDescriptorType_IsMalformed()
    {
        byte[] image = Received();
        image[28 + 11] = MACH_MSG_OOL_DESCRIPTOR;
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_OutOfLineDescriptorWhereThePayloadIsAPort_IsMalformed()
    {
        byte[] image = Received(payloadLength: 100, outOfLine: true);
        int oolOffset = 28 + 12 + 12;
        image[oolOffset + 11] = MACH_MSG_OOL_PORTS_DESCRIPTOR;
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_SendOnceRightAsChannel_IsMalformed()
    {
        byte[] image = Received();
        image[28 + 10] = MACH_MSG_TYPE_PORT_SEND_ONCE;
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_ReceiveRightAsRegion_IsMalformed()
    {
        byte[] image = Received();
        image[28 + 12 + 10] = MACH_MSG_TYPE_PORT_RECEIVE;
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_InlineLengthLying_IsMalformed()
    {
        byte[] image = Received();
        int inline = InlineOffset(image);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(inline + 8), 100);
        AssertMalformed(image);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(inline + 8), 1);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_OutOfLineSizeMismatch_IsMalformed()
    {
        byte[] image = Received(payloadLength: 1 << 20, outOfLine: true);
        int oolOffset = 28 + 12 + 12;
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(oolOffset + 12), (1 << 20) - 1);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_RegionCountLying_IsMalformed()
    {
        byte[] image = Received();
        int inline = InlineOffset(image);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(inline + 16), 0x4000_0000);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_RegionOfMoreThan2GiB_IsMalformed()
    {
        byte[] image = Received();
        int inline = InlineOffset(image);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(inline + 20), 0x8000_0000);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_BadMagicVersionOrFlags_IsMalformed()
    {
        foreach (int field in new[] { 0, 4, 6 })
        {
            byte[] image = Received();
            int inline = InlineOffset(image);
            image[inline + field] ^= 0x40;
            AssertMalformed(image);
        }
    }

    [Fact]
    public void Parse_PayloadAboveTheReceiversLimit_IsMalformed()
    {
        AssertMalformed(Received(payloadLength: 100), maxMessageSize: 99);
        Assert.Equal(100, MachMessageReader.Parse(Received(payloadLength: 100), 100).PayloadLength);
    }

    [Fact]
    public void Parse_ReplyRight_IsMalformed()
    {
        byte[] image = Received();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(8), 0x3333);
        image[0] = MACH_MSG_TYPE_PORT_SEND_ONCE;
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_UnknownMessageId_IsMalformed()
    {
        byte[] image = Received();
        BinaryPrimitives.WriteInt32LittleEndian(image.AsSpan(20), 0);
        AssertMalformed(image);
    }

    [Fact]
    public void Parse_NotComplex_IsMalformed()
    {
        byte[] image = Received();
        image[3] &= 0x7F;
        AssertMalformed(image);
    }

    [Fact]
    public void CollectResources_FindsEveryRightAndRangeEvenWhenTheMessageIsMalformed()
    {
        byte[] image = Received(payloadLength: 1 << 20, channels: 2, outOfLine: true);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(8), 0x3333);
        image[0] = MACH_MSG_TYPE_PORT_SEND_ONCE;
        int inline = InlineOffset(image);
        image[inline] ^= 0xFF;
        AssertMalformed(image);

        var rights = new List<MachReceivedRight>();
        var memory = new List<MachReceivedMemory>();
        var arrays = new List<MachReceivedPortArray>();
        MachMessageReader.CollectResources(image, rights, memory, arrays);

        Assert.Equal(
            [
                new MachReceivedRight(0x3333, MACH_MSG_TYPE_PORT_SEND_ONCE),
                new MachReceivedRight(0x100 + KernelImage.Offset, MACH_MSG_TYPE_PORT_SEND),
                new MachReceivedRight(0x101 + KernelImage.Offset, MACH_MSG_TYPE_PORT_SEND),
                new MachReceivedRight(0x500 + KernelImage.Offset, MACH_MSG_TYPE_PORT_SEND),
            ],
            rights);
        Assert.Equal([new MachReceivedMemory(0x4000_0000 + 0x10_0000_0000, 1 << 20)], memory);
        Assert.Empty(arrays);
    }

    [Fact]
    public void CollectResources_FindsPortArraysAndGuardedPortsAndStopsAtTheMessageEnd()
    {
        byte[] image = new byte[28 + 16 + 16 + 12 + MachWire.AuditTrailerSize];
        int size = 28 + 16 + 16 + 12;
        BinaryPrimitives.WriteUInt32LittleEndian(image, MACH_MSGH_BITS_COMPLEX);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(4), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 10); // lies: only three fit
        Span<byte> ports = image.AsSpan(28);
        BinaryPrimitives.WriteUInt64LittleEndian(ports, 0x9000);
        ports[10] = MACH_MSG_TYPE_PORT_RECEIVE;
        ports[11] = MACH_MSG_OOL_PORTS_DESCRIPTOR;
        BinaryPrimitives.WriteUInt32LittleEndian(ports.Slice(12), 3);
        Span<byte> guarded = image.AsSpan(44);
        guarded[10] = MACH_MSG_TYPE_PORT_RECEIVE;
        guarded[11] = MACH_MSG_GUARDED_PORT_DESCRIPTOR;
        BinaryPrimitives.WriteUInt32LittleEndian(guarded.Slice(12), 0x4444);
        Span<byte> port = image.AsSpan(60);
        BinaryPrimitives.WriteUInt32LittleEndian(port, 0x5555);
        port[10] = MACH_MSG_TYPE_PORT_SEND;
        KernelImage.WriteTrailer(image.AsSpan(size), Peer, kernel: false);

        var rights = new List<MachReceivedRight>();
        var memory = new List<MachReceivedMemory>();
        var arrays = new List<MachReceivedPortArray>();
        MachMessageReader.CollectResources(image, rights, memory, arrays);

        Assert.Equal([new MachReceivedPortArray(0x9000, 3, MACH_MSG_TYPE_PORT_RECEIVE)], arrays);
        Assert.Equal([new MachReceivedRight(0x4444, MACH_MSG_TYPE_PORT_RECEIVE), new MachReceivedRight(0x5555, MACH_MSG_TYPE_PORT_SEND)], rights);
        Assert.Empty(memory);
        AssertMalformed(image);
    }

    [Fact]
    public void CollectResources_IgnoresNullAndDeadNames()
    {
        byte[] image = Received(channels: 2);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(28), MACH_PORT_DEAD);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(40), MACH_PORT_NULL);

        var rights = new List<MachReceivedRight>();
        MachMessageReader.CollectResources(image, rights, [], []);

        Assert.Equal([new MachReceivedRight(0x500 + KernelImage.Offset, MACH_MSG_TYPE_PORT_SEND)], rights);
    }
}
