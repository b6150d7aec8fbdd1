using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace IpcChannel.Transport.MacOS;

/// <summary>What a received message is.</summary>
internal enum MachMessageKind
{
    /// <summary>An IpcChannel data message.</summary>
    Data,

    /// <summary>A client's hello to a server, carrying the receive right of the client's channel.</summary>
    Hello,

    /// <summary>The kernel's no-senders notification: every sender is gone (after every earlier message).</summary>
    NoSenders,

    /// <summary>Another kernel notification (for example a send-once notification); it carries nothing and is skipped.</summary>
    KernelNotification,
}

/// <summary>A received message, checked against the wire format; names and addresses are those the kernel wrote.</summary>
internal sealed class MachParsedMessage
{
    /// <summary>What the message is.</summary>
    public required MachMessageKind Kind { get; init; }

    /// <summary>The name the message was received on (a member port when receiving on a port set).</summary>
    public required uint LocalPort { get; init; }

    /// <summary>The sender's credentials, from the kernel's audit trailer (all zero for the kernel itself).</summary>
    public required PeerCredentials Sender { get; init; }

    /// <summary>The payload length.</summary>
    public int PayloadLength { get; init; }

    /// <summary>Where the inline payload starts in the image, or -1 when it is out of line.</summary>
    public int InlinePayloadOffset { get; init; } = -1;

    /// <summary>The out-of-line payload, when <see cref="InlinePayloadOffset"/> is -1 and the message is data.</summary>
    public MachReceivedMemory OutOfLinePayload { get; init; }

    /// <summary>The channel ends, in the sender's order.</summary>
    public MachReceivedRight[] Channels { get; init; } = [];

    /// <summary>The length of every region, in the sender's order.</summary>
    public int[] RegionLengths { get; init; } = [];

    /// <summary>The memory entries of the regions of non-zero length, in order.</summary>
    public MachReceivedRight[] RegionEntries { get; init; } = [];
}

/// <summary>
/// Reads the byte image of a received message (see <see cref="MachWire"/>). Pure: names and addresses are plain
/// integers, so every rule is tested on any OS. Nothing in the image is trusted: a malformed message raises
/// <see cref="IpcSerializationException"/>, and <see cref="CollectResources"/> tells the caller every right and every
/// range of memory the kernel handed over, so they are released whatever the message says.
/// </summary>
internal static class MachMessageReader
{
    /// <summary>Reads <c>msgh_size</c>, which the kernel sets to the needed size when it answers <c>MACH_RCV_TOO_LARGE</c>.</summary>
    /// <param name="image">The receive buffer.</param>
    /// <returns>The size.</returns>
    public static uint ReadSize(ReadOnlySpan<byte> image) => BinaryPrimitives.ReadUInt32LittleEndian(image.Slice(4));

    /// <summary>Reads <c>msgh_local_port</c>: the port a message (or a too-large report with identity) is on.</summary>
    /// <param name="image">The receive buffer.</param>
    /// <returns>The name.</returns>
    public static uint ReadLocalPort(ReadOnlySpan<byte> image) => BinaryPrimitives.ReadUInt32LittleEndian(image.Slice(12));

    /// <summary>
    /// Lists every right and range of memory the image hands to this task: the header's reply right and every
    /// descriptor that lies inside the message. Never throws; whatever the image claims, what it holds is found.
    /// </summary>
    /// <param name="image">The received image (or the image a failed send got back from the kernel).</param>
    /// <param name="rights">Receives the rights.</param>
    /// <param name="memory">Receives the out-of-line ranges.</param>
    /// <param name="portArrays">Receives the out-of-line arrays of rights.</param>
    public static void CollectResources(
        ReadOnlySpan<byte> image, List<MachReceivedRight> rights, List<MachReceivedMemory> memory, List<MachReceivedPortArray> portArrays)
    {
        if (image.Length < MachWire.HeaderSize)
        {
            return;
        }

        uint bits = BinaryPrimitives.ReadUInt32LittleEndian(image);
        int size = (int)Math.Min(ReadSize(image), (uint)image.Length);
        uint remote = BinaryPrimitives.ReadUInt32LittleEndian(image.Slice(8));
        AddRight(rights, remote, (byte)(bits & Interop.MACH_MSGH_BITS_REMOTE_MASK));
        if ((bits & Interop.MACH_MSGH_BITS_COMPLEX) == 0 || size < MachWire.HeaderSize + MachWire.BodySize)
        {
            return;
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(image.Slice(MachWire.HeaderSize));
        int offset = MachWire.HeaderSize + MachWire.BodySize;
        for (uint i = 0; i < count && offset + MachWire.PortDescriptorSize <= size; i++)
        {
            ReadOnlySpan<byte> descriptor = image.Slice(offset);
            byte type = descriptor[MachWire.DescriptorTypeOffset];
            byte disposition = descriptor[MachWire.DescriptorDispositionOffset];
            if (type == Interop.MACH_MSG_PORT_DESCRIPTOR)
            {
                AddRight(rights, BinaryPrimitives.ReadUInt32LittleEndian(descriptor), disposition);
                offset += MachWire.PortDescriptorSize;
                continue;
            }

            if (offset + MachWire.LongDescriptorSize > size)
            {
                return;
            }

            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(descriptor);
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(descriptor.Slice(12));
            switch (type)
            {
                case Interop.MACH_MSG_OOL_DESCRIPTOR or Interop.MACH_MSG_OOL_VOLATILE_DESCRIPTOR:
                    if (address != 0 && value != 0)
                    {
                        memory.Add(new MachReceivedMemory(address, value));
                    }

                    break;
                case Interop.MACH_MSG_OOL_PORTS_DESCRIPTOR:
                    if (address != 0 && value != 0)
                    {
                        portArrays.Add(new MachReceivedPortArray(address, value, disposition));
                    }

                    break;
                case Interop.MACH_MSG_GUARDED_PORT_DESCRIPTOR:
                    AddRight(rights, value, disposition);
                    break;
                default:
                    // An unknown layout: its size is unknown too, so nothing after it can be found.
                    return;
            }

            offset += MachWire.LongDescriptorSize;
        }
    }

    private static void AddRight(List<MachReceivedRight> rights, uint name, byte disposition)
    {
        if (name != Interop.MACH_PORT_NULL && name != Interop.MACH_PORT_DEAD &&
            disposition is Interop.MACH_MSG_TYPE_PORT_RECEIVE or Interop.MACH_MSG_TYPE_PORT_SEND or Interop.MACH_MSG_TYPE_PORT_SEND_ONCE)
        {
            rights.Add(new MachReceivedRight(name, disposition));
        }
    }

    /// <summary>Checks a received image against the wire format and says what it holds.</summary>
    /// <param name="image">The received message followed by its trailer.</param>
    /// <param name="maxMessageSize">Payloads declared larger than this are refused.</param>
    /// <returns>The parsed message.</returns>
    /// <exception cref="IpcSerializationException">The image breaks the wire format.</exception>
    public static MachParsedMessage Parse(ReadOnlySpan<byte> image, int maxMessageSize)
    {
        if (image.Length < MachWire.HeaderSize)
        {
            throw Errors.Malformed($"it has {image.Length} bytes, fewer than the {MachWire.HeaderSize}-byte header");
        }

        uint bits = BinaryPrimitives.ReadUInt32LittleEndian(image);
        uint size = ReadSize(image);
        uint remote = BinaryPrimitives.ReadUInt32LittleEndian(image.Slice(8));
        uint local = ReadLocalPort(image);
        int id = BinaryPrimitives.ReadInt32LittleEndian(image.Slice(20));
        if (size < MachWire.HeaderSize || size % 4 != 0 || size > (uint)image.Length)
        {
            throw Errors.Malformed($"its header declares {size} bytes in a {image.Length}-byte buffer");
        }

        int messageSize = (int)size;
        ReadOnlySpan<byte> trailer = image.Slice(messageSize);
        if (trailer.Length < 8)
        {
            throw Errors.Malformed("it has no trailer");
        }

        uint trailerType = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint trailerSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer.Slice(4));
        if (trailerType != Interop.MACH_MSG_TRAILER_FORMAT_0 || trailerSize < MachWire.AuditTrailerSize || trailerSize > (uint)trailer.Length)
        {
            throw Errors.Malformed($"its trailer (type {trailerType}, {trailerSize} bytes) is not the requested audit trailer");
        }

        ReadOnlySpan<byte> audit = trailer.Slice(MachWire.AuditTokenOffsetInTrailer, 32);
        bool fromKernel = audit.IndexOfAnyExcept((byte)0) < 0;
        var sender = new PeerCredentials(
            Pid: BinaryPrimitives.ReadInt32LittleEndian(audit.Slice(5 * 4)),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(audit.Slice(1 * 4)),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(audit.Slice(2 * 4)));
        bool complex = (bits & Interop.MACH_MSGH_BITS_COMPLEX) != 0;

        if (fromKernel && !complex && id is >= Interop.MACH_NOTIFY_FIRST and <= Interop.MACH_NOTIFY_LAST)
        {
            if (id != Interop.MACH_NOTIFY_NO_SENDERS)
            {
                return new MachParsedMessage { Kind = MachMessageKind.KernelNotification, LocalPort = local, Sender = sender };
            }

            // The kernel sends it through the send-once right armed with the request, so it arrives with that disposition.
            byte localDisposition = (byte)((bits & Interop.MACH_MSGH_BITS_LOCAL_MASK) >> 8);
            if (localDisposition != Interop.MACH_MSG_TYPE_PORT_SEND_ONCE || remote != Interop.MACH_PORT_NULL)
            {
                throw Errors.Malformed("a no-senders notification did not arrive through its send-once right");
            }

            return new MachParsedMessage { Kind = MachMessageKind.NoSenders, LocalPort = local, Sender = sender };
        }

        MachMessageKind kind = id switch
        {
            MachWire.DataMessageId => MachMessageKind.Data,
            MachWire.HelloMessageId => MachMessageKind.Hello,
            Interop.MACH_NOTIFY_NO_SENDERS => throw Errors.Malformed($"a no-senders notification came from process {sender.Pid}, not the kernel"),
            _ => throw Errors.Malformed($"its id 0x{id:x} is not an IpcChannel message"),
        };

        if (remote != Interop.MACH_PORT_NULL)
        {
            throw Errors.Malformed("it carries a reply right");
        }

        if (!complex || messageSize < MachWire.HeaderSize + MachWire.BodySize)
        {
            throw Errors.Malformed("it is not a complex message with a body");
        }

        // Walk the descriptors: every one must lie inside the message.
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(image.Slice(MachWire.HeaderSize));
        int offset = MachWire.HeaderSize + MachWire.BodySize;
        if (count > (uint)(messageSize - offset) / MachWire.PortDescriptorSize)
        {
            throw Errors.Malformed($"it declares {count} descriptors but has room for at most {(messageSize - offset) / MachWire.PortDescriptorSize}");
        }

        Span<int> descriptorOffsets = count <= 256 ? stackalloc int[(int)count] : new int[count];
        for (int i = 0; i < (int)count; i++)
        {
            if (offset + MachWire.PortDescriptorSize > messageSize)
            {
                throw Errors.Malformed($"it declares {count} descriptors but ends after {i}");
            }

            byte type = image[offset + MachWire.DescriptorTypeOffset];
            int length = type == Interop.MACH_MSG_PORT_DESCRIPTOR ? MachWire.PortDescriptorSize : MachWire.LongDescriptorSize;
            if (offset + length > messageSize)
            {
                throw Errors.Malformed($"it declares {count} descriptors but ends inside descriptor {i}");
            }

            descriptorOffsets[i] = offset;
            offset += length;
        }

        // The IpcChannel inline header.
        ReadOnlySpan<byte> inline = image.Slice(offset, messageSize - offset);
        if (inline.Length < MachWire.InlineHeaderSize)
        {
            throw Errors.Malformed($"its inline data has {inline.Length} bytes, fewer than the {MachWire.InlineHeaderSize}-byte IpcChannel header");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(inline);
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(inline.Slice(4));
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(inline.Slice(6));
        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(inline.Slice(8));
        uint channelCount = BinaryPrimitives.ReadUInt32LittleEndian(inline.Slice(12));
        uint regionCount = BinaryPrimitives.ReadUInt32LittleEndian(inline.Slice(16));
        if (magic != MachWire.Magic || version != MachWire.Version || (flags & ~MachWire.KnownFlags) != 0)
        {
            throw Errors.Malformed("its inline data does not start with an IpcChannel header of this version");
        }

        if (payloadLength > (uint)maxMessageSize)
        {
            throw Errors.Malformed($"it declares {payloadLength} bytes, more than this receiver's limit of {maxMessageSize}");
        }

        if (regionCount > (uint)(inline.Length - MachWire.InlineHeaderSize) / sizeof(uint))
        {
            throw Errors.Malformed($"it declares {regionCount} regions but its inline data cannot hold their table");
        }

        int tableEnd = MachWire.InlineHeaderSize + ((int)regionCount * sizeof(uint));
        int[] regionLengths = new int[regionCount];
        int nonEmptyRegions = 0;
        for (int i = 0; i < regionLengths.Length; i++)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(inline.Slice(MachWire.InlineHeaderSize + (i * sizeof(uint))));
            if (length > int.MaxValue)
            {
                throw Errors.Malformed($"it declares a region of {length} bytes");
            }

            regionLengths[i] = (int)length;
            if (length > 0)
            {
                nonEmptyRegions++;
            }
        }

        bool outOfLine = (flags & MachWire.FlagBodyOutOfLine) != 0;
        ulong expectedDescriptors = (ulong)channelCount + (ulong)nonEmptyRegions + (outOfLine ? 1UL : 0UL);
        if (expectedDescriptors != count)
        {
            throw Errors.Malformed($"it carries {count} descriptors where its header announces {expectedDescriptors}");
        }

        int portCount = (int)channelCount + nonEmptyRegions;
        var channels = new MachReceivedRight[channelCount];
        var regionEntries = new MachReceivedRight[nonEmptyRegions];
        for (int i = 0; i < portCount; i++)
        {
            ReadOnlySpan<byte> descriptor = image.Slice(descriptorOffsets[i], MachWire.PortDescriptorSize);
            byte type = descriptor[MachWire.DescriptorTypeOffset];
            if (type != Interop.MACH_MSG_PORT_DESCRIPTOR)
            {
                throw Errors.Malformed($"descriptor {i} has type {type} where a port descriptor is expected");
            }

            var right = new MachReceivedRight(BinaryPrimitives.ReadUInt32LittleEndian(descriptor), descriptor[MachWire.DescriptorDispositionOffset]);
            if (i < channelCount)
            {
                channels[i] = CheckChannel(right, i);
            }
            else
            {
                regionEntries[i - (int)channelCount] = CheckRegionEntry(right, i - (int)channelCount);
            }
        }

        if (kind == MachMessageKind.Hello)
        {
            if (channelCount != 1 || regionCount != 0 || payloadLength != 0 || outOfLine || channels[0].Disposition != Interop.MACH_MSG_TYPE_PORT_RECEIVE)
            {
                throw Errors.Malformed("a hello must carry exactly one receive right and nothing else");
            }
        }

        if (outOfLine)
        {
            ReadOnlySpan<byte> descriptor = image.Slice(descriptorOffsets[portCount], MachWire.LongDescriptorSize);
            byte type = descriptor[MachWire.DescriptorTypeOffset];
            if (type != Interop.MACH_MSG_OOL_DESCRIPTOR)
            {
                throw Errors.Malformed($"descriptor {portCount} has type {type} where the out-of-line payload is expected");
            }

            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(descriptor);
            uint oolSize = BinaryPrimitives.ReadUInt32LittleEndian(descriptor.Slice(12));
            if (oolSize != payloadLength || (address == 0 && oolSize != 0))
            {
                throw Errors.Malformed($"its out-of-line payload has {oolSize} bytes where the header says {payloadLength}");
            }

            if (inline.Length != tableEnd)
            {
                throw Errors.Malformed($"its inline data has {inline.Length} bytes where {tableEnd} are expected");
            }

            return new MachParsedMessage
            {
                Kind = kind,
                LocalPort = local,
                Sender = sender,
                PayloadLength = (int)payloadLength,
                OutOfLinePayload = new MachReceivedMemory(address, oolSize),
                Channels = channels,
                RegionLengths = regionLengths,
                RegionEntries = regionEntries,
            };
        }

        if (MachWire.Align4(tableEnd + (long)payloadLength) != inline.Length)
        {
            throw Errors.Malformed($"its inline data has {inline.Length} bytes where {payloadLength} payload bytes need {MachWire.Align4(tableEnd + (long)payloadLength)}");
        }

        return new MachParsedMessage
        {
            Kind = kind,
            LocalPort = local,
            Sender = sender,
            PayloadLength = (int)payloadLength,
            InlinePayloadOffset = offset + tableEnd,
            Channels = channels,
            RegionLengths = regionLengths,
            RegionEntries = regionEntries,
        };
    }

    private static MachReceivedRight CheckChannel(MachReceivedRight right, int index)
    {
        bool valid = right.Disposition switch
        {
            // A sender whose port died in transit arrives as MACH_PORT_DEAD: still a (disconnected) sender.
            Interop.MACH_MSG_TYPE_PORT_SEND => right.Name != Interop.MACH_PORT_NULL,
            Interop.MACH_MSG_TYPE_PORT_RECEIVE => right.Name is not (Interop.MACH_PORT_NULL or Interop.MACH_PORT_DEAD),
            _ => false,
        };
        return valid
            ? right
            : throw Errors.Malformed($"channel {index} is not a send or receive right (name {right.Name}, disposition {right.Disposition})");
    }

    private static MachReceivedRight CheckRegionEntry(MachReceivedRight right, int index) =>
        right.Disposition == Interop.MACH_MSG_TYPE_PORT_SEND && right.Name is not (Interop.MACH_PORT_NULL or Interop.MACH_PORT_DEAD)
            ? right
            : throw Errors.Malformed($"region {index} is not a send right to a memory entry (name {right.Name}, disposition {right.Disposition})");
}
