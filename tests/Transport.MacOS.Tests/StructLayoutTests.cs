using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Xunit;
using static IpcChannel.Transport.MacOS.Interop;

namespace IpcChannel.Transport.MacOS.Tests;

/// <summary>
/// Every structure that crosses into the kernel has the size, field offsets and packing of Apple's headers
/// (<c>&lt;mach/message.h&gt;</c> is <c>#pragma pack(4)</c>; the numbers are those of the bindgen layout tests of
/// servo/ipc-channel's <c>mach_sys.rs</c> and of XNU's headers).
/// </summary>
public class StructLayoutTests
{
    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    private static void AssertSize<T>(int expected)
        where T : struct
    {
        Assert.Equal(expected, Marshal.SizeOf<T>());
        Assert.Equal(expected, Unsafe.SizeOf<T>());
    }

    [Fact]
    public void MachMsgHeader_Is24BytesWithCFieldOffsets()
    {
        AssertSize<mach_msg_header_t>(24);
        Assert.Equal(0, Offset<mach_msg_header_t>(nameof(mach_msg_header_t.msgh_bits)));
        Assert.Equal(4, Offset<mach_msg_header_t>(nameof(mach_msg_header_t.msgh_size)));
        Assert.Equal(8, Offset<mach_msg_header_t>(nameof(mach_msg_header_t.msgh_remote_port)));
        Assert.Equal(12, Offset<mach_msg_header_t>(nameof(mach_msg_header_t.msgh_local_port)));
        Assert.Equal(16, Offset<mach_msg_header_t>(nameof(mach_msg_header_t.msgh_voucher_port)));
        Assert.Equal(20, Offset<mach_msg_header_t>(nameof(mach_msg_header_t.msgh_id)));
        Assert.Equal(MachWire.HeaderSize, Marshal.SizeOf<mach_msg_header_t>());
    }

    [Fact]
    public void MachMsgBody_Is4Bytes()
    {
        AssertSize<mach_msg_body_t>(4);
        Assert.Equal(MachWire.BodySize, Marshal.SizeOf<mach_msg_body_t>());
    }

    [Fact]
    public void PortDescriptor_Is12BytesWithDispositionAndTypeInTheLastWord()
    {
        AssertSize<mach_msg_port_descriptor_t>(12);
        Assert.Equal(0, Offset<mach_msg_port_descriptor_t>(nameof(mach_msg_port_descriptor_t.name)));
        Assert.Equal(4, Offset<mach_msg_port_descriptor_t>(nameof(mach_msg_port_descriptor_t.pad1)));
        Assert.Equal(8, Offset<mach_msg_port_descriptor_t>(nameof(mach_msg_port_descriptor_t.pad2)));
        Assert.Equal(10, Offset<mach_msg_port_descriptor_t>(nameof(mach_msg_port_descriptor_t.disposition)));
        Assert.Equal(11, Offset<mach_msg_port_descriptor_t>(nameof(mach_msg_port_descriptor_t.type)));
        Assert.Equal(MachWire.PortDescriptorSize, Marshal.SizeOf<mach_msg_port_descriptor_t>());
        Assert.Equal(MachWire.DescriptorDispositionOffset, Offset<mach_msg_port_descriptor_t>(nameof(mach_msg_port_descriptor_t.disposition)));
        Assert.Equal(MachWire.DescriptorTypeOffset, Offset<mach_msg_port_descriptor_t>(nameof(mach_msg_port_descriptor_t.type)));
    }

    [Fact]
    public void OolDescriptor64_Is16BytesPackedTo4()
    {
        AssertSize<mach_msg_ool_descriptor64_t>(16);
        Assert.Equal(0, Offset<mach_msg_ool_descriptor64_t>(nameof(mach_msg_ool_descriptor64_t.address)));
        Assert.Equal(8, Offset<mach_msg_ool_descriptor64_t>(nameof(mach_msg_ool_descriptor64_t.deallocate)));
        Assert.Equal(9, Offset<mach_msg_ool_descriptor64_t>(nameof(mach_msg_ool_descriptor64_t.copy)));
        Assert.Equal(10, Offset<mach_msg_ool_descriptor64_t>(nameof(mach_msg_ool_descriptor64_t.pad1)));
        Assert.Equal(11, Offset<mach_msg_ool_descriptor64_t>(nameof(mach_msg_ool_descriptor64_t.type)));
        Assert.Equal(12, Offset<mach_msg_ool_descriptor64_t>(nameof(mach_msg_ool_descriptor64_t.size)));
        Assert.Equal(MachWire.LongDescriptorSize, Marshal.SizeOf<mach_msg_ool_descriptor64_t>());
    }

    [Fact]
    public void OolPortsAndGuardedPortDescriptors_Are16BytesWithTypeAtOffset11()
    {
        AssertSize<mach_msg_ool_ports_descriptor64_t>(16);
        Assert.Equal(10, Offset<mach_msg_ool_ports_descriptor64_t>(nameof(mach_msg_ool_ports_descriptor64_t.disposition)));
        Assert.Equal(11, Offset<mach_msg_ool_ports_descriptor64_t>(nameof(mach_msg_ool_ports_descriptor64_t.type)));
        Assert.Equal(12, Offset<mach_msg_ool_ports_descriptor64_t>(nameof(mach_msg_ool_ports_descriptor64_t.count)));

        AssertSize<mach_msg_guarded_port_descriptor64_t>(16);
        Assert.Equal(0, Offset<mach_msg_guarded_port_descriptor64_t>(nameof(mach_msg_guarded_port_descriptor64_t.context)));
        Assert.Equal(8, Offset<mach_msg_guarded_port_descriptor64_t>(nameof(mach_msg_guarded_port_descriptor64_t.flags)));
        Assert.Equal(10, Offset<mach_msg_guarded_port_descriptor64_t>(nameof(mach_msg_guarded_port_descriptor64_t.disposition)));
        Assert.Equal(11, Offset<mach_msg_guarded_port_descriptor64_t>(nameof(mach_msg_guarded_port_descriptor64_t.type)));
        Assert.Equal(12, Offset<mach_msg_guarded_port_descriptor64_t>(nameof(mach_msg_guarded_port_descriptor64_t.name)));
    }

    [Fact]
    public void Trailers_HaveTheSizesOfMessageH()
    {
        AssertSize<mach_msg_trailer_t>(8);
        AssertSize<security_token_t>(8);
        AssertSize<audit_token_t>(32);
        AssertSize<msg_labels_t>(4);

        AssertSize<mach_msg_audit_trailer_t>(52);
        Assert.Equal(0, Offset<mach_msg_audit_trailer_t>(nameof(mach_msg_audit_trailer_t.msgh_trailer_type)));
        Assert.Equal(4, Offset<mach_msg_audit_trailer_t>(nameof(mach_msg_audit_trailer_t.msgh_trailer_size)));
        Assert.Equal(8, Offset<mach_msg_audit_trailer_t>(nameof(mach_msg_audit_trailer_t.msgh_seqno)));
        Assert.Equal(12, Offset<mach_msg_audit_trailer_t>(nameof(mach_msg_audit_trailer_t.msgh_sender)));
        Assert.Equal(20, Offset<mach_msg_audit_trailer_t>(nameof(mach_msg_audit_trailer_t.msgh_audit)));
        Assert.Equal(MachWire.AuditTrailerSize, Marshal.SizeOf<mach_msg_audit_trailer_t>());
        Assert.Equal(MachWire.AuditTokenOffsetInTrailer, Offset<mach_msg_audit_trailer_t>(nameof(mach_msg_audit_trailer_t.msgh_audit)));
    }

    [Fact]
    public void MaxTrailer_Is68BytesWithTheContextAtAnUnalignedOffset52()
    {
        AssertSize<mach_msg_max_trailer_t>(68);
        Assert.Equal(20, Offset<mach_msg_max_trailer_t>(nameof(mach_msg_max_trailer_t.msgh_audit)));
        Assert.Equal(52, Offset<mach_msg_max_trailer_t>(nameof(mach_msg_max_trailer_t.msgh_context)));
        Assert.Equal(60, Offset<mach_msg_max_trailer_t>(nameof(mach_msg_max_trailer_t.msgh_ad)));
        Assert.Equal(64, Offset<mach_msg_max_trailer_t>(nameof(mach_msg_max_trailer_t.msgh_labels)));
        Assert.Equal(MachWire.MaxTrailerSize, Marshal.SizeOf<mach_msg_max_trailer_t>());
    }

    [Fact]
    public void PortAttributes_MatchTheirCountsInNaturalUnits()
    {
        AssertSize<mach_port_limits_t>(4);
        Assert.Equal((int)MACH_PORT_LIMITS_INFO_COUNT * 4, Marshal.SizeOf<mach_port_limits_t>());
        AssertSize<mach_port_status_t>(40);
        Assert.Equal((int)MACH_PORT_RECEIVE_STATUS_COUNT * 4, Marshal.SizeOf<mach_port_status_t>());
        Assert.Equal(32, Offset<mach_port_status_t>(nameof(mach_port_status_t.mps_nsrequest)));
    }

    [Fact]
    public void Kevent64_Is48Bytes()
    {
        AssertSize<kevent64_s>(48);
        Assert.Equal(0, Offset<kevent64_s>(nameof(kevent64_s.ident)));
        Assert.Equal(8, Offset<kevent64_s>(nameof(kevent64_s.filter)));
        Assert.Equal(10, Offset<kevent64_s>(nameof(kevent64_s.flags)));
        Assert.Equal(12, Offset<kevent64_s>(nameof(kevent64_s.fflags)));
        Assert.Equal(16, Offset<kevent64_s>(nameof(kevent64_s.data)));
        Assert.Equal(24, Offset<kevent64_s>(nameof(kevent64_s.udata)));
        Assert.Equal(32, Offset<kevent64_s>(nameof(kevent64_s.ext)));
    }

    [Fact]
    public void Constants_MatchAppleHeaders()
    {
        Assert.Equal(70, MACH_NOTIFY_NO_SENDERS);
        Assert.Equal(71, MACH_NOTIFY_SEND_ONCE);
        Assert.Equal(72, MACH_NOTIFY_DEAD_NAME);
        Assert.Equal(0x03000000, MachWire.ReceiveTrailerOptions);
        Assert.Equal(0x80000013u, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX);
        Assert.Equal(0x1200u, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE));
        Assert.Equal(36, MACH_NO_SENDERS_NOTIFICATION_SIZE);
        Assert.Equal(0x10000003, MACH_SEND_INVALID_DEST);
        Assert.Equal(0x10004004, MACH_RCV_TOO_LARGE);
        Assert.Equal(-8, EVFILT_MACHPORT);
    }
}
