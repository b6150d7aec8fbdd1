using System;
using System.Buffers.Binary;

namespace IpcChannel.Transport.MacOS;

/// <summary>What one outgoing message holds; <see cref="MachMessageWriter"/> turns it into the kernel's image.</summary>
internal readonly ref struct MachOutgoingMessage
{
    /// <summary>Describes a message.</summary>
    /// <param name="destination">The name of the send right the message goes to (transferred with <c>COPY_SEND</c>).</param>
    /// <param name="messageId"><see cref="MachWire.DataMessageId"/> or <see cref="MachWire.HelloMessageId"/>.</param>
    /// <param name="ports">Port descriptors: channels first, then one per region of non-zero length.</param>
    /// <param name="outOfLine">No descriptor, or one carrying the payload.</param>
    /// <param name="payloadLength">The payload's length (inline or out of line).</param>
    /// <param name="channelCount">How many of <paramref name="ports"/> are channels.</param>
    /// <param name="regionLengths">The length of every region, in order.</param>
    /// <param name="inlinePayload">The payload when it travels inline (empty otherwise).</param>
    public MachOutgoingMessage(
        uint destination,
        int messageId,
        ReadOnlySpan<MachPortDescriptor> ports,
        ReadOnlySpan<MachOolDescriptor> outOfLine,
        int payloadLength,
        int channelCount,
        ReadOnlySpan<int> regionLengths,
        ReadOnlySpan<byte> inlinePayload)
    {
        Destination = destination;
        MessageId = messageId;
        Ports = ports;
        OutOfLine = outOfLine;
        PayloadLength = payloadLength;
        ChannelCount = channelCount;
        RegionLengths = regionLengths;
        InlinePayload = inlinePayload;
    }

    /// <summary>The destination send right's name.</summary>
    public uint Destination { get; }

    /// <summary>The message id.</summary>
    public int MessageId { get; }

    /// <summary>The port descriptors.</summary>
    public ReadOnlySpan<MachPortDescriptor> Ports { get; }

    /// <summary>The out-of-line descriptors (0 or 1).</summary>
    public ReadOnlySpan<MachOolDescriptor> OutOfLine { get; }

    /// <summary>The payload length.</summary>
    public int PayloadLength { get; }

    /// <summary>The number of channel descriptors.</summary>
    public int ChannelCount { get; }

    /// <summary>The region lengths.</summary>
    public ReadOnlySpan<int> RegionLengths { get; }

    /// <summary>The inline payload.</summary>
    public ReadOnlySpan<byte> InlinePayload { get; }
}

/// <summary>
/// Builds the byte image of a message for <c>mach_msg</c> (see <see cref="MachWire"/>). Pure: it touches no kernel
/// object, so it is tested byte for byte on any OS.
/// </summary>
internal static class MachMessageWriter
{
    /// <summary>The size of the image of a message.</summary>
    /// <param name="portCount">Port descriptors.</param>
    /// <param name="outOfLineCount">OOL descriptors.</param>
    /// <param name="regionCount">Regions (entries in the region table).</param>
    /// <param name="inlinePayloadLength">Inline payload bytes.</param>
    /// <returns>The size in bytes, a multiple of 4.</returns>
    /// <exception cref="IpcException">The message would exceed what one Mach message can hold.</exception>
    public static int GetSize(int portCount, int outOfLineCount, int regionCount, int inlinePayloadLength)
    {
        long size = MachWire.HeaderSize + MachWire.BodySize
            + ((long)portCount * MachWire.PortDescriptorSize)
            + ((long)outOfLineCount * MachWire.LongDescriptorSize)
            + MachWire.InlineHeaderSize
            + ((long)regionCount * sizeof(uint))
            + inlinePayloadLength;
        size = MachWire.Align4(size);
        if (size > MachWire.MaxKernelMessage)
        {
            throw new IpcException(
                $"A message with {portCount} channels and regions and {regionCount} regions needs {size} bytes of kernel message, more than {MachWire.MaxKernelMessage}. Nothing was sent.");
        }

        return (int)size;
    }

    /// <summary>The size of the image of <paramref name="message"/>.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The size in bytes.</returns>
    public static int GetSize(in MachOutgoingMessage message) =>
        GetSize(message.Ports.Length, message.OutOfLine.Length, message.RegionLengths.Length, message.InlinePayload.Length);

    /// <summary>Writes the image of <paramref name="message"/>.</summary>
    /// <param name="image">The destination; at least <see cref="GetSize(in MachOutgoingMessage)"/> bytes.</param>
    /// <param name="message">The message.</param>
    /// <returns>The number of bytes written (the <c>msgh_size</c>).</returns>
    /// <exception cref="ArgumentException">The description is inconsistent (a bug in the caller).</exception>
    public static int Write(Span<byte> image, in MachOutgoingMessage message)
    {
        Validate(message);
        int size = GetSize(message);
        if (image.Length < size)
        {
            throw new ArgumentException($"The image needs {size} bytes but the buffer has {image.Length}.", nameof(image));
        }

        image = image.Slice(0, size);
        image.Clear();

        // mach_msg_header_t
        uint bits = Interop.MACH_MSGH_BITS(Interop.MACH_MSG_TYPE_COPY_SEND, 0) | Interop.MACH_MSGH_BITS_COMPLEX;
        BinaryPrimitives.WriteUInt32LittleEndian(image, bits);
        BinaryPrimitives.WriteUInt32LittleEndian(image.Slice(4), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(image.Slice(8), message.Destination);
        BinaryPrimitives.WriteUInt32LittleEndian(image.Slice(12), Interop.MACH_PORT_NULL);
        BinaryPrimitives.WriteUInt32LittleEndian(image.Slice(16), Interop.MACH_PORT_NULL);
        BinaryPrimitives.WriteInt32LittleEndian(image.Slice(20), message.MessageId);

        // mach_msg_body_t
        BinaryPrimitives.WriteUInt32LittleEndian(image.Slice(MachWire.HeaderSize), (uint)(message.Ports.Length + message.OutOfLine.Length));
        int offset = MachWire.HeaderSize + MachWire.BodySize;

        foreach (MachPortDescriptor port in message.Ports)
        {
            Span<byte> descriptor = image.Slice(offset, MachWire.PortDescriptorSize);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor, port.Name);
            descriptor[MachWire.DescriptorDispositionOffset] = port.Disposition;
            descriptor[MachWire.DescriptorTypeOffset] = Interop.MACH_MSG_PORT_DESCRIPTOR;
            offset += MachWire.PortDescriptorSize;
        }

        foreach (MachOolDescriptor ool in message.OutOfLine)
        {
            Span<byte> descriptor = image.Slice(offset, MachWire.LongDescriptorSize);
            BinaryPrimitives.WriteUInt64LittleEndian(descriptor, ool.Address);
            descriptor[8] = ool.Deallocate ? (byte)1 : (byte)0;
            descriptor[9] = ool.Copy;
            descriptor[MachWire.DescriptorTypeOffset] = Interop.MACH_MSG_OOL_DESCRIPTOR;
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor.Slice(12), ool.Size);
            offset += MachWire.LongDescriptorSize;
        }

        // The IpcChannel inline header, region table and inline payload.
        Span<byte> inline = image.Slice(offset);
        ushort flags = message.OutOfLine.IsEmpty ? (ushort)0 : MachWire.FlagBodyOutOfLine;
        BinaryPrimitives.WriteUInt32LittleEndian(inline, MachWire.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(inline.Slice(4), MachWire.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(inline.Slice(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(inline.Slice(8), (uint)message.PayloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(inline.Slice(12), (uint)message.ChannelCount);
        BinaryPrimitives.WriteUInt32LittleEndian(inline.Slice(16), (uint)message.RegionLengths.Length);
        int position = MachWire.InlineHeaderSize;
        foreach (int length in message.RegionLengths)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(inline.Slice(position), (uint)length);
            position += sizeof(uint);
        }

        message.InlinePayload.CopyTo(inline.Slice(position));
        return size;
    }

    private static void Validate(in MachOutgoingMessage message)
    {
        if (message.MessageId is not (MachWire.DataMessageId or MachWire.HelloMessageId))
        {
            throw new ArgumentException($"Unknown message id 0x{message.MessageId:x}.", nameof(message));
        }

        int nonEmptyRegions = 0;
        foreach (int length in message.RegionLengths)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(message));
            if (length > 0)
            {
                nonEmptyRegions++;
            }
        }

        if (message.ChannelCount < 0 || message.Ports.Length != message.ChannelCount + nonEmptyRegions)
        {
            throw new ArgumentException(
                $"{message.Ports.Length} port descriptors for {message.ChannelCount} channels and {nonEmptyRegions} non-empty regions.", nameof(message));
        }

        if (message.OutOfLine.Length > 1)
        {
            throw new ArgumentException("At most one out-of-line descriptor (the payload) is allowed.", nameof(message));
        }

        bool outOfLine = message.OutOfLine.Length == 1;
        if (outOfLine && (!message.InlinePayload.IsEmpty || message.OutOfLine[0].Size != (uint)message.PayloadLength))
        {
            throw new ArgumentException("An out-of-line payload must match the payload length and leave no inline payload.", nameof(message));
        }

        if (!outOfLine && message.InlinePayload.Length != message.PayloadLength)
        {
            throw new ArgumentException("The inline payload must match the payload length.", nameof(message));
        }
    }
}
