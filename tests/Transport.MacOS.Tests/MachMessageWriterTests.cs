using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using IpcChannel.Transport.MacOS.Tests.Support;
using Xunit;
using static IpcChannel.Transport.MacOS.Interop;

namespace IpcChannel.Transport.MacOS.Tests;

/// <summary>The image <see cref="MachMessageWriter"/> hands to <c>mach_msg</c>, byte for byte.</summary>
public class MachMessageWriterTests
{
    private const uint Destination = 0x1503;

    private static byte[] Write(in MachOutgoingMessage message)
    {
        byte[] image = new byte[MachMessageWriter.GetSize(message) + 8];
        image.AsSpan().Fill(0xEE);
        int size = MachMessageWriter.Write(image, message);
        Assert.Equal(MachMessageWriter.GetSize(message), size);
        return image.AsSpan(0, size).ToArray();
    }

    private static uint U32(byte[] image, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(offset));

    [Fact]
    public void InlineMessage_HasHeaderBodyInlineHeaderPayloadAndZeroPadding()
    {
        byte[] payload = Encoding.ASCII.GetBytes("1234567");
        var message = new MachOutgoingMessage(Destination, MachWire.DataMessageId, default, default, payload.Length, 0, default, payload);

        byte[] image = Write(message);

        // 24 header + 4 body + 20 inline header + 7 payload = 55, padded to 56.
        Assert.Equal(56, image.Length);
        mach_msg_header_t header = MemoryMarshal.Read<mach_msg_header_t>(image);
        Assert.Equal(MACH_MSG_TYPE_COPY_SEND | MACH_MSGH_BITS_COMPLEX, header.msgh_bits);
        Assert.Equal(56u, header.msgh_size);
        Assert.Equal(Destination, header.msgh_remote_port);
        Assert.Equal(MACH_PORT_NULL, header.msgh_local_port);
        Assert.Equal(MACH_PORT_NULL, header.msgh_voucher_port);
        Assert.Equal(MachWire.DataMessageId, header.msgh_id);
        Assert.Equal(0u, MemoryMarshal.Read<mach_msg_body_t>(image.AsSpan(24)).msgh_descriptor_count);
        Assert.Equal(MachWire.Magic, U32(image, 28));
        Assert.Equal(MachWire.Version, BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(32)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(34)));
        Assert.Equal(7u, U32(image, 36));
        Assert.Equal(0u, U32(image, 40));
        Assert.Equal(0u, U32(image, 44));
        Assert.Equal(payload, image.AsSpan(48, 7).ToArray());
        Assert.Equal(0, image[55]);
    }

    [Fact]
    public void EmptyMessage_IsHeaderBodyAndInlineHeaderOnly()
    {
        var message = new MachOutgoingMessage(Destination, MachWire.DataMessageId, default, default, 0, 0, default, default);

        byte[] image = Write(message);

        Assert.Equal(48, image.Length);
        Assert.Equal(0u, U32(image, 36));
    }

    [Fact]
    public void PortDescriptors_ComeFirstWithTheirDispositionsThenRegionEntries()
    {
        MachPortDescriptor[] ports =
        [
            new(0x103, MACH_MSG_TYPE_COPY_SEND),
            new(0x207, MACH_MSG_TYPE_MOVE_RECEIVE),
            new(0x30b, MACH_MSG_TYPE_COPY_SEND),
        ];
        int[] regions = [0, 4096];
        var message = new MachOutgoingMessage(Destination, MachWire.DataMessageId, ports, default, 3, 2, regions, "abc"u8);

        byte[] image = Write(message);

        Assert.Equal(3u, U32(image, 24));
        for (int i = 0; i < ports.Length; i++)
        {
            mach_msg_port_descriptor_t descriptor = MemoryMarshal.Read<mach_msg_port_descriptor_t>(image.AsSpan(28 + (12 * i)));
            Assert.Equal(ports[i].Name, descriptor.name);
            Assert.Equal(ports[i].Disposition, descriptor.disposition);
            Assert.Equal(MACH_MSG_PORT_DESCRIPTOR, descriptor.type);
            Assert.Equal(0u, descriptor.pad1);
            Assert.Equal(0, descriptor.pad2);
        }

        int inline = 28 + 36;
        Assert.Equal(3u, U32(image, inline + 8));
        Assert.Equal(2u, U32(image, inline + 12));
        Assert.Equal(2u, U32(image, inline + 16));
        Assert.Equal(0u, U32(image, inline + 20));
        Assert.Equal(4096u, U32(image, inline + 24));
        Assert.Equal("abc"u8.ToArray(), image.AsSpan(inline + 28, 3).ToArray());
        Assert.Equal(0, image.Length % 4);
    }

    [Fact]
    public void OutOfLinePayload_IsTheLastDescriptorAndFlagged()
    {
        MachPortDescriptor[] ports = [new(0x103, MACH_MSG_TYPE_COPY_SEND)];
        MachOolDescriptor[] ool = [new(0x7000_1234_5000, 1 << 20, Deallocate: false, MACH_MSG_VIRTUAL_COPY)];
        var message = new MachOutgoingMessage(Destination, MachWire.DataMessageId, ports, ool, 1 << 20, 1, default, default);

        byte[] image = Write(message);

        Assert.Equal(2u, U32(image, 24));
        mach_msg_ool_descriptor64_t descriptor = MemoryMarshal.Read<mach_msg_ool_descriptor64_t>(image.AsSpan(28 + 12));
        Assert.Equal(0x7000_1234_5000ul, descriptor.address);
        Assert.Equal(0, descriptor.deallocate);
        Assert.Equal(MACH_MSG_VIRTUAL_COPY, descriptor.copy);
        Assert.Equal(MACH_MSG_OOL_DESCRIPTOR, descriptor.type);
        Assert.Equal(1u << 20, descriptor.size);
        int inline = 28 + 12 + 16;
        Assert.Equal(MachWire.FlagBodyOutOfLine, BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(inline + 6)));
        Assert.Equal(1u << 20, U32(image, inline + 8));
        Assert.Equal(inline + MachWire.InlineHeaderSize, image.Length);
    }

    [Fact]
    public void Hello_CarriesOneReceiveRight()
    {
        MachPortDescriptor[] ports = [new(0x903, MACH_MSG_TYPE_MOVE_RECEIVE)];
        var message = new MachOutgoingMessage(Destination, MachWire.HelloMessageId, ports, default, 0, 1, default, default);

        byte[] image = Write(message);

        Assert.Equal(MachWire.HelloMessageId, BinaryPrimitives.ReadInt32LittleEndian(image.AsSpan(20)));
        Assert.Equal(MACH_MSG_TYPE_MOVE_RECEIVE, image[28 + 10]);
    }

    [Fact]
    public void Write_InconsistentDescription_Throws()
    {
        MachPortDescriptor[] ports = [new(0x103, MACH_MSG_TYPE_COPY_SEND)];
        Assert.Throws<ArgumentException>(() => Write(new MachOutgoingMessage(Destination, MachWire.DataMessageId, ports, default, 0, 0, default, default)));
        Assert.Throws<ArgumentException>(() => Write(new MachOutgoingMessage(Destination, MachWire.DataMessageId, default, default, 5, 0, default, "abc"u8)));
        Assert.Throws<ArgumentException>(() => Write(new MachOutgoingMessage(Destination, 12345, default, default, 0, 0, default, default)));
        MachOolDescriptor[] ool = [new(0x5000, 10, false, MACH_MSG_VIRTUAL_COPY)];
        Assert.Throws<ArgumentException>(() => Write(new MachOutgoingMessage(Destination, MachWire.DataMessageId, default, ool, 11, 0, default, default)));
    }

    [Fact]
    public void GetSize_BeyondOneKernelMessage_ThrowsIpcException()
    {
        Assert.Throws<IpcException>(() => MachMessageWriter.GetSize(10_000_000, 0, 0, 0));
    }

    [Fact]
    public void WrittenImage_DeliveredByTheKernel_ParsesBackToTheSameContent()
    {
        byte[] payload = new byte[MachWire.MaxInlinePayload];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i % 251);
        }

        MachPortDescriptor[] ports = [new(0x103, MACH_MSG_TYPE_COPY_SEND), new(0x207, MACH_MSG_TYPE_MOVE_RECEIVE), new(0x30b, MACH_MSG_TYPE_COPY_SEND)];
        int[] regions = [12, 0];
        var message = new MachOutgoingMessage(Destination, MachWire.DataMessageId, ports, default, payload.Length, 2, regions, payload);
        byte[] sent = Write(message);

        byte[] received = KernelImage.Deliver(sent, localPort: 0x777, new PeerCredentials(321, 501, 20));
        MachParsedMessage parsed = MachMessageReader.Parse(received, int.MaxValue);

        Assert.Equal(MachMessageKind.Data, parsed.Kind);
        Assert.Equal(0x777u, parsed.LocalPort);
        Assert.Equal(new PeerCredentials(321, 501, 20), parsed.Sender);
        Assert.Equal(payload, received.AsSpan(parsed.InlinePayloadOffset, parsed.PayloadLength).ToArray());
        Assert.Equal([new MachReceivedRight(0x103 + KernelImage.Offset, MACH_MSG_TYPE_PORT_SEND), new MachReceivedRight(0x207 + KernelImage.Offset, MACH_MSG_TYPE_PORT_RECEIVE)], parsed.Channels);
        Assert.Equal(regions, parsed.RegionLengths);
        Assert.Equal([new MachReceivedRight(0x30b + KernelImage.Offset, MACH_MSG_TYPE_PORT_SEND)], parsed.RegionEntries);
    }
}
