using System;
using System.Buffers.Binary;
using IpcChannel.Transport;
using IpcChannel.Transport.MacOS;

namespace IpcChannel.Transport.MacOS.Tests.Support;

/// <summary>
/// Plays the kernel's part for the pure tests: turns a sent image into what the receiving task would see (header
/// reversed, dispositions translated, names and addresses rewritten, audit trailer appended), and builds
/// notifications. The rules are XNU's <c>ipc_kmsg_copyout_header</c> / <c>_body</c> and <c>mach_msg_receive_results</c>.
/// </summary>
internal static class KernelImage
{
    public const int Offset = 0x1000;

    /// <summary>The received form of a sent image of <paramref name="size"/> bytes.</summary>
    public static byte[] Deliver(ReadOnlySpan<byte> sent, uint localPort, PeerCredentials sender)
    {
        int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(sent.Slice(4));
        byte[] received = new byte[size + MachWire.AuditTrailerSize];
        sent.Slice(0, size).CopyTo(received);
        uint bits = BinaryPrimitives.ReadUInt32LittleEndian(received);
        uint complex = bits & Interop.MACH_MSGH_BITS_COMPLEX;

        // The destination's COPY_SEND arrives in the local field as PORT_SEND; there is no reply port.
        BinaryPrimitives.WriteUInt32LittleEndian(received, Interop.MACH_MSGH_BITS(0, Interop.MACH_MSG_TYPE_PORT_SEND) | complex);
        BinaryPrimitives.WriteUInt32LittleEndian(received.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(received.AsSpan(12), localPort);
        if (complex != 0)
        {
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(received.AsSpan(24));
            int offset = 28;
            for (int i = 0; i < count; i++)
            {
                Span<byte> d = received.AsSpan(offset);
                if (d[11] == Interop.MACH_MSG_PORT_DESCRIPTOR)
                {
                    uint name = BinaryPrimitives.ReadUInt32LittleEndian(d);
                    BinaryPrimitives.WriteUInt32LittleEndian(d, name + Offset);
                    d[10] = d[10] switch
                    {
                        Interop.MACH_MSG_TYPE_MOVE_RECEIVE => Interop.MACH_MSG_TYPE_PORT_RECEIVE,
                        Interop.MACH_MSG_TYPE_MOVE_SEND_ONCE or Interop.MACH_MSG_TYPE_MAKE_SEND_ONCE => Interop.MACH_MSG_TYPE_PORT_SEND_ONCE,
                        _ => Interop.MACH_MSG_TYPE_PORT_SEND,
                    };
                    offset += 12;
                }
                else
                {
                    ulong address = BinaryPrimitives.ReadUInt64LittleEndian(d);
                    BinaryPrimitives.WriteUInt64LittleEndian(d, address + 0x10_0000_0000);
                    offset += 16;
                }
            }
        }

        WriteTrailer(received.AsSpan(size), sender, kernel: false);
        return received;
    }

    /// <summary>A notification as the kernel sends it: not complex, through the armed send-once right.</summary>
    public static byte[] Notification(int id, uint localPort, bool fromKernel = true, byte localDisposition = Interop.MACH_MSG_TYPE_PORT_SEND_ONCE)
    {
        int size = id == Interop.MACH_NOTIFY_NO_SENDERS ? Interop.MACH_NO_SENDERS_NOTIFICATION_SIZE : MachWire.HeaderSize;
        byte[] image = new byte[size + MachWire.AuditTrailerSize];
        BinaryPrimitives.WriteUInt32LittleEndian(image, Interop.MACH_MSGH_BITS(0, localDisposition));
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(4), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(12), localPort);
        BinaryPrimitives.WriteInt32LittleEndian(image.AsSpan(20), id);
        WriteTrailer(image.AsSpan(size), fromKernel ? default : new PeerCredentials(4242, 501, 20), fromKernel);
        return image;
    }

    public static void WriteTrailer(Span<byte> trailer, PeerCredentials sender, bool kernel)
    {
        trailer.Slice(0, MachWire.AuditTrailerSize).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, Interop.MACH_MSG_TRAILER_FORMAT_0);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.Slice(4), MachWire.AuditTrailerSize);
        // security_token_t: the kernel's is {0, 1}; a process's is {uid, gid}.
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.Slice(12), kernel ? 0 : sender.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.Slice(16), kernel ? 1 : sender.Gid);
        if (!kernel)
        {
            Span<byte> audit = trailer.Slice(MachWire.AuditTokenOffsetInTrailer);
            BinaryPrimitives.WriteUInt32LittleEndian(audit.Slice(1 * 4), sender.Uid);
            BinaryPrimitives.WriteUInt32LittleEndian(audit.Slice(2 * 4), sender.Gid);
            BinaryPrimitives.WriteUInt32LittleEndian(audit.Slice(3 * 4), sender.Uid);
            BinaryPrimitives.WriteUInt32LittleEndian(audit.Slice(4 * 4), sender.Gid);
            BinaryPrimitives.WriteInt32LittleEndian(audit.Slice(5 * 4), sender.Pid);
        }
    }
}
