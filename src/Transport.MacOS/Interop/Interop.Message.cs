using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;mach/message.h&gt;</c>. Every structure mirrors the C declaration, packed to 4 bytes as
/// the header's <c>#pragma pack(4)</c> requires; descriptor bitfields are spelled out as bytes at their offsets.</summary>
internal static partial class Interop
{
    /// <summary><c>mach_msg</c>: sends and/or receives one message.</summary>
    /// <returns>A <c>mach_msg_return_t</c>: <see cref="MACH_MSG_SUCCESS"/> or an error code.</returns>
    [LibraryImport(Libraries.System, EntryPoint = "mach_msg")]
    internal static unsafe partial int MachMsg(void* msg, int option, uint sendSize, uint receiveLimit, uint receiveName, uint timeout, uint notify);

    /// <summary><c>mach_msg_header_t</c> (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct mach_msg_header_t
    {
        public uint msgh_bits;
        public uint msgh_size;
        public uint msgh_remote_port;
        public uint msgh_local_port;
        public uint msgh_voucher_port;
        public int msgh_id;
    }

    /// <summary><c>mach_msg_body_t</c> (4 bytes): present after the header of a complex message.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct mach_msg_body_t
    {
        public uint msgh_descriptor_count;
    }

    /// <summary><c>mach_msg_port_descriptor_t</c> (12 bytes): <c>name; pad1; pad2:16; disposition:8; type:8</c>.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 12, Pack = 4)]
    internal struct mach_msg_port_descriptor_t
    {
        [FieldOffset(0)] public uint name;
        [FieldOffset(4)] public uint pad1;
        [FieldOffset(8)] public ushort pad2;
        [FieldOffset(10)] public byte disposition;
        [FieldOffset(11)] public byte type;
    }

    /// <summary><c>mach_msg_ool_descriptor64_t</c> (16 bytes), the 64-bit user form of <c>mach_msg_ool_descriptor_t</c>:
    /// <c>address; deallocate:8; copy:8; pad1:8; type:8; size</c>.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 16, Pack = 4)]
    internal struct mach_msg_ool_descriptor64_t
    {
        [FieldOffset(0)] public ulong address;
        [FieldOffset(8)] public byte deallocate;
        [FieldOffset(9)] public byte copy;
        [FieldOffset(10)] public byte pad1;
        [FieldOffset(11)] public byte type;
        [FieldOffset(12)] public uint size;
    }

    /// <summary><c>mach_msg_ool_ports_descriptor64_t</c> (16 bytes): <c>address; deallocate:8; copy:8; disposition:8; type:8; count</c>.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 16, Pack = 4)]
    internal struct mach_msg_ool_ports_descriptor64_t
    {
        [FieldOffset(0)] public ulong address;
        [FieldOffset(8)] public byte deallocate;
        [FieldOffset(9)] public byte copy;
        [FieldOffset(10)] public byte disposition;
        [FieldOffset(11)] public byte type;
        [FieldOffset(12)] public uint count;
    }

    /// <summary><c>mach_msg_guarded_port_descriptor64_t</c> (16 bytes): <c>context; flags:16; disposition:8; type:8; name</c>.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 16, Pack = 4)]
    internal struct mach_msg_guarded_port_descriptor64_t
    {
        [FieldOffset(0)] public ulong context;
        [FieldOffset(8)] public ushort flags;
        [FieldOffset(10)] public byte disposition;
        [FieldOffset(11)] public byte type;
        [FieldOffset(12)] public uint name;
    }

    /// <summary><c>mach_msg_trailer_t</c> (8 bytes): the part of every trailer the kernel always writes.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct mach_msg_trailer_t
    {
        public uint msgh_trailer_type;
        public uint msgh_trailer_size;
    }

    /// <summary><c>security_token_t</c> (8 bytes): <c>val[0]</c> = uid, <c>val[1]</c> = gid of the sender.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal unsafe struct security_token_t
    {
        public fixed uint val[2];
    }

    /// <summary><c>audit_token_t</c> (32 bytes): <c>val[1]</c> = euid, <c>val[2]</c> = egid, <c>val[5]</c> = pid.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal unsafe struct audit_token_t
    {
        public fixed uint val[8];
    }

    /// <summary><c>mach_msg_audit_trailer_t</c> (52 bytes): what <see cref="MACH_RCV_TRAILER_AUDIT"/> asks for.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct mach_msg_audit_trailer_t
    {
        public uint msgh_trailer_type;
        public uint msgh_trailer_size;
        public uint msgh_seqno;
        public security_token_t msgh_sender;
        public audit_token_t msgh_audit;
    }

    /// <summary><c>msg_labels_t</c> (4 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct msg_labels_t
    {
        public uint sender;
    }

    /// <summary><c>mach_msg_mac_trailer_t</c> = <c>mach_msg_max_trailer_t</c> (68 bytes): the largest trailer the
    /// kernel can append, so the room every receive buffer reserves beyond the message.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct mach_msg_max_trailer_t
    {
        public uint msgh_trailer_type;
        public uint msgh_trailer_size;
        public uint msgh_seqno;
        public security_token_t msgh_sender;
        public audit_token_t msgh_audit;
        public ulong msgh_context;
        public int msgh_ad;
        public msg_labels_t msgh_labels;
    }

    // mach_msg options.
    internal const int MACH_SEND_MSG = 0x00000001;
    internal const int MACH_RCV_MSG = 0x00000002;
    internal const int MACH_RCV_LARGE = 0x00000004;
    internal const int MACH_RCV_LARGE_IDENTITY = 0x00000008;
    internal const int MACH_SEND_TIMEOUT = 0x00000010;
    internal const int MACH_RCV_TIMEOUT = 0x00000100;

    // Trailer requests.
    internal const int MACH_MSG_TRAILER_FORMAT_0 = 0;
    internal const int MACH_RCV_TRAILER_AUDIT = 3;

    /// <summary><c>MACH_RCV_TRAILER_TYPE(x)</c>.</summary>
    internal static int MACH_RCV_TRAILER_TYPE(int x) => (x & 0xf) << 28;

    /// <summary><c>MACH_RCV_TRAILER_ELEMENTS(x)</c>.</summary>
    internal static int MACH_RCV_TRAILER_ELEMENTS(int x) => (x & 0xf) << 24;

    // Header bits.
    internal const uint MACH_MSGH_BITS_REMOTE_MASK = 0x0000001f;
    internal const uint MACH_MSGH_BITS_LOCAL_MASK = 0x00001f00;
    internal const uint MACH_MSGH_BITS_VOUCHER_MASK = 0x001f0000;
    internal const uint MACH_MSGH_BITS_COMPLEX = 0x80000000;

    /// <summary><c>MACH_MSGH_BITS(remote, local)</c>.</summary>
    internal static uint MACH_MSGH_BITS(uint remote, uint local) => remote | (local << 8);

    // Port dispositions (mach_msg_type_name_t).
    internal const byte MACH_MSG_TYPE_MOVE_RECEIVE = 16;
    internal const byte MACH_MSG_TYPE_MOVE_SEND = 17;
    internal const byte MACH_MSG_TYPE_MOVE_SEND_ONCE = 18;
    internal const byte MACH_MSG_TYPE_COPY_SEND = 19;
    internal const byte MACH_MSG_TYPE_MAKE_SEND = 20;
    internal const byte MACH_MSG_TYPE_MAKE_SEND_ONCE = 21;
    internal const byte MACH_MSG_TYPE_PORT_RECEIVE = MACH_MSG_TYPE_MOVE_RECEIVE;
    internal const byte MACH_MSG_TYPE_PORT_SEND = MACH_MSG_TYPE_MOVE_SEND;
    internal const byte MACH_MSG_TYPE_PORT_SEND_ONCE = MACH_MSG_TYPE_MOVE_SEND_ONCE;

    // Copy options.
    internal const byte MACH_MSG_PHYSICAL_COPY = 0;
    internal const byte MACH_MSG_VIRTUAL_COPY = 1;

    // Descriptor types.
    internal const byte MACH_MSG_PORT_DESCRIPTOR = 0;
    internal const byte MACH_MSG_OOL_DESCRIPTOR = 1;
    internal const byte MACH_MSG_OOL_PORTS_DESCRIPTOR = 2;
    internal const byte MACH_MSG_OOL_VOLATILE_DESCRIPTOR = 3;
    internal const byte MACH_MSG_GUARDED_PORT_DESCRIPTOR = 4;

    // mach_msg_return_t values.
    internal const int MACH_MSG_SUCCESS = 0;
    internal const int MACH_MSG_MASK = 0x00003e00;
    internal const int MACH_SEND_INVALID_DATA = 0x10000002;
    internal const int MACH_SEND_INVALID_DEST = 0x10000003;
    internal const int MACH_SEND_TIMED_OUT = 0x10000004;
    internal const int MACH_SEND_INTERRUPTED = 0x10000007;
    internal const int MACH_SEND_MSG_TOO_SMALL = 0x10000008;
    internal const int MACH_SEND_INVALID_RIGHT = 0x1000000a;
    internal const int MACH_SEND_INVALID_MEMORY = 0x1000000c;
    internal const int MACH_SEND_NO_BUFFER = 0x1000000d;
    internal const int MACH_SEND_TOO_LARGE = 0x1000000e;
    internal const int MACH_SEND_INVALID_TYPE = 0x1000000f;
    internal const int MACH_SEND_INVALID_HEADER = 0x10000010;
    internal const int MACH_RCV_INVALID_NAME = 0x10004002;
    internal const int MACH_RCV_TIMED_OUT = 0x10004003;
    internal const int MACH_RCV_TOO_LARGE = 0x10004004;
    internal const int MACH_RCV_INTERRUPTED = 0x10004005;
    internal const int MACH_RCV_PORT_CHANGED = 0x10004006;
    internal const int MACH_RCV_INVALID_DATA = 0x10004008;
    internal const int MACH_RCV_PORT_DIED = 0x10004009;
    internal const int MACH_RCV_HEADER_ERROR = 0x1000400b;
    internal const int MACH_RCV_BODY_ERROR = 0x1000400c;
    internal const int MACH_RCV_INVALID_TRAILER = 0x1000400f;

    /// <summary><c>MACH_PORT_NULL</c>.</summary>
    internal const uint MACH_PORT_NULL = 0;

    /// <summary><c>MACH_PORT_DEAD</c>: the name a right to a destroyed port arrives as.</summary>
    internal const uint MACH_PORT_DEAD = 0xFFFFFFFF;
}
