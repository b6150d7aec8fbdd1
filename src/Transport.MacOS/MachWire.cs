namespace IpcChannel.Transport.MacOS;

/// <summary>
/// The wire format of one IpcChannel message on a Mach port, as the kernel sees it (64-bit user layout).
/// </summary>
/// <remarks>
/// <code>
/// mach_msg_header_t  24  bits = COPY_SEND remote | COMPLEX; id = DataMessageId or HelloMessageId; no reply port
/// mach_msg_body_t     4  descriptor count = ports + (body out of line ? 1 : 0)
/// port descriptor    12  × channelCount  (senders COPY_SEND, receivers MOVE_RECEIVE), then
/// port descriptor    12  × regions of non-zero length (COPY_SEND of a read-only memory entry)
/// OOL descriptor     16  × 0 or 1: the payload, when larger than MaxInlinePayload (VIRTUAL_COPY)
/// inline header      20  u32 magic 'ICCM' | u16 version | u16 flags | u32 payloadLength | u32 channelCount | u32 regionCount
/// region table    4 × r  u32 length of every region, in order (0 = empty region, no descriptor)
/// payload             n  only when the body is inline
/// padding          0..3  zeros up to a multiple of 4 (the kernel rejects other sizes)
/// trailer        52..68  appended by the kernel on receive: mach_msg_audit_trailer_t (requested)
/// </code>
/// <para>All integers are little-endian (every Mac is). Port names and addresses in the descriptors are plain
/// integers here; the kernel rewrites them between the two tasks.</para>
/// </remarks>
internal static class MachWire
{
    /// <summary><c>sizeof(mach_msg_header_t)</c>.</summary>
    public const int HeaderSize = 24;

    /// <summary><c>sizeof(mach_msg_body_t)</c>.</summary>
    public const int BodySize = 4;

    /// <summary><c>sizeof(mach_msg_port_descriptor_t)</c>.</summary>
    public const int PortDescriptorSize = 12;

    /// <summary><c>sizeof(mach_msg_ool_descriptor64_t)</c> (and of the other 64-bit descriptors).</summary>
    public const int LongDescriptorSize = 16;

    /// <summary>Offset of the <c>type</c> byte, the same in every descriptor layout.</summary>
    public const int DescriptorTypeOffset = 11;

    /// <summary>Offset of the <c>disposition</c> byte in port, OOL-ports and guarded-port descriptors.</summary>
    public const int DescriptorDispositionOffset = 10;

    /// <summary>Size of the IpcChannel header at the start of the inline data.</summary>
    public const int InlineHeaderSize = 20;

    /// <summary>The inline header's magic, "ICCM".</summary>
    public const uint Magic = 0x4D434349;

    /// <summary>The only wire version.</summary>
    public const ushort Version = 1;

    /// <summary>Flag: the payload travels as the last (out-of-line) descriptor rather than inline.</summary>
    public const ushort FlagBodyOutOfLine = 0x1;

    /// <summary>Every flag this version knows.</summary>
    public const ushort KnownFlags = FlagBodyOutOfLine;

    /// <summary><c>msgh_id</c> of a data message ("IPC1").</summary>
    public const int DataMessageId = 0x31435049;

    /// <summary><c>msgh_id</c> of a client's hello to a server ("IPCH"): it carries the client's receive right.</summary>
    public const int HelloMessageId = 0x48435049;

    /// <summary>Payloads above this travel out of line (page-aligned, copied on write by the kernel) rather than inline.</summary>
    public const int MaxInlinePayload = 16 * 1024;

    /// <summary><c>sizeof(mach_msg_audit_trailer_t)</c>: the smallest trailer a valid received message carries.</summary>
    public const int AuditTrailerSize = 52;

    /// <summary><c>sizeof(mach_msg_max_trailer_t)</c>: the room every receive buffer keeps beyond the message.</summary>
    public const int MaxTrailerSize = 68;

    /// <summary>Offset of <c>msgh_audit</c> within the trailer.</summary>
    public const int AuditTokenOffsetInTrailer = 20;

    /// <summary>The largest kernel message (header, descriptors and inline data) a receiver accepts; larger ones are discarded unread.</summary>
    public const int MaxKernelMessage = 64 * 1024 * 1024;

    /// <summary>The receive options that ask for the audit trailer: <c>MACH_RCV_TRAILER_TYPE(FORMAT_0) | MACH_RCV_TRAILER_ELEMENTS(AUDIT)</c>.</summary>
    public static int ReceiveTrailerOptions =>
        Interop.MACH_RCV_TRAILER_TYPE(Interop.MACH_MSG_TRAILER_FORMAT_0) | Interop.MACH_RCV_TRAILER_ELEMENTS(Interop.MACH_RCV_TRAILER_AUDIT);

    /// <summary>Rounds up to a multiple of 4.</summary>
    /// <param name="value">The size.</param>
    /// <returns>The rounded size.</returns>
    public static long Align4(long value) => (value + 3) & ~3L;
}

/// <summary>A port descriptor to send: a name in this task and how to transfer it.</summary>
/// <param name="Name">The right's name.</param>
/// <param name="Disposition"><c>MACH_MSG_TYPE_COPY_SEND</c> for senders and regions, <c>MACH_MSG_TYPE_MOVE_RECEIVE</c> for receivers.</param>
internal readonly record struct MachPortDescriptor(uint Name, byte Disposition);

/// <summary>An out-of-line memory descriptor to send.</summary>
/// <param name="Address">The start of the memory in this task.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="Deallocate">Whether the kernel removes the range from this task when the message is sent.</param>
/// <param name="Copy"><c>MACH_MSG_VIRTUAL_COPY</c> or <c>MACH_MSG_PHYSICAL_COPY</c>.</param>
internal readonly record struct MachOolDescriptor(ulong Address, uint Size, bool Deallocate, byte Copy);

/// <summary>A right that arrived in a message (or came back from a failed send), as the kernel wrote it.</summary>
/// <param name="Name">Its name in this task (<see cref="Interop.MACH_PORT_DEAD"/> if the port died in transit).</param>
/// <param name="Disposition"><c>MACH_MSG_TYPE_PORT_RECEIVE</c>, <c>_PORT_SEND</c> or <c>_PORT_SEND_ONCE</c>.</param>
internal readonly record struct MachReceivedRight(uint Name, byte Disposition);

/// <summary>Out-of-line memory that arrived in a message: this task now owns the range.</summary>
/// <param name="Address">Its address in this task.</param>
/// <param name="Size">Its size in bytes.</param>
internal readonly record struct MachReceivedMemory(ulong Address, ulong Size);

/// <summary>An out-of-line array of port rights that arrived in a message: this task owns the memory and every right in it.</summary>
/// <param name="Address">The array's address in this task.</param>
/// <param name="Count">The number of names in it.</param>
/// <param name="Disposition">The kind of every right in it.</param>
internal readonly record struct MachReceivedPortArray(ulong Address, uint Count, byte Disposition);
