using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using IpcChannel.Transport.Linux;

namespace IpcChannel.Tests.Support;

/// <summary>
/// A hostile (or merely raw) peer: writes datagrams and SCM_RIGHTS descriptors with a bare sendmsg, bypassing
/// the transport's frame writer. The frame layout is restated here on purpose, so a test notices if it changes:
/// <c>u32 payloadLength | u32 channelCount | u32 regionCount | u16 flags | u16 magic 0x4943</c>, little-endian.
/// </summary>
internal static unsafe class RawPeer
{
    public const int HeaderSize = 16;
    public const ushort Magic = 0x4943;
    public const ushort FlagBodyInMemfd = 0x1;
    public const ushort FlagSideChannel = 0x2;

    /// <summary>A frame header.</summary>
    public static byte[] Header(uint payloadLength, uint channels = 0, uint regions = 0, ushort flags = 0, ushort magic = Magic)
    {
        byte[] header = new byte[HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), regions);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(12), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(14), magic);
        return header;
    }

    /// <summary>Concatenates parts of a datagram.</summary>
    public static byte[] Concat(params byte[][] parts)
    {
        int length = 0;
        foreach (byte[] part in parts)
        {
            length += part.Length;
        }

        byte[] result = new byte[length];
        int offset = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }

        return result;
    }

    /// <summary>A little-endian u32 (for region tables and side-channel chunk headers).</summary>
    public static byte[] U32(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>One sendmsg of <paramref name="data"/> with <paramref name="fds"/> in one SCM_RIGHTS message.</summary>
    /// <returns>0, or the errno.</returns>
    public static int TrySend(SafeFdHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<SafeFdHandle> fds, bool dontWait = false)
    {
        int referenced = 0;
        try
        {
            int[] numbers = new int[fds.Length];
            for (int i = 0; i < fds.Length; i++)
            {
                bool added = false;
                fds[i].DangerousAddRef(ref added);
                referenced++;
                numbers[i] = (int)fds[i].DangerousGetHandle();
            }

            int controlLength = fds.IsEmpty ? 0 : Interop.CMsgSpace(fds.Length * sizeof(int));
            byte[] control = new byte[Math.Max(controlLength, 1)];
            fixed (byte* c = control)
            fixed (byte* d = data)
            {
                if (controlLength != 0)
                {
                    var cmsg = (Interop.CMsgHdr*)c;
                    cmsg->cmsg_len = (nuint)Interop.CMsgLen(fds.Length * sizeof(int));
                    cmsg->cmsg_level = Interop.SOL_SOCKET;
                    cmsg->cmsg_type = Interop.SCM_RIGHTS;
                    numbers.AsSpan().CopyTo(new Span<int>(c + Interop.CMsgAlign(sizeof(Interop.CMsgHdr)), fds.Length));
                }

                byte dummy = 0;
                Interop.IoVec iov = new() { iov_base = data.IsEmpty ? &dummy : d, iov_len = (nuint)data.Length };
                Interop.MsgHdr msg = default;
                msg.msg_iov = &iov;
                msg.msg_iovlen = 1;
                msg.msg_control = controlLength == 0 ? null : c;
                msg.msg_controllen = (nuint)controlLength;
                int flags = Interop.MSG_NOSIGNAL | (dontWait ? Interop.MSG_DONTWAIT : 0);
                while (true)
                {
                    if (Interop.SendMsg(socket, &msg, flags) >= 0)
                    {
                        return 0;
                    }

                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != Interop.Errno.EINTR)
                    {
                        return errno;
                    }
                }
            }
        }
        finally
        {
            for (int i = 0; i < referenced; i++)
            {
                fds[i].DangerousRelease();
            }
        }
    }

    /// <summary>Like <see cref="TrySend"/>, but a failure fails the test.</summary>
    public static void Send(SafeFdHandle socket, ReadOnlySpan<byte> data, params ReadOnlySpan<SafeFdHandle> fds)
    {
        int errno = TrySend(socket, data, fds);
        if (errno != 0)
        {
            throw new InvalidOperationException($"raw sendmsg failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
        }
    }

    /// <summary>Creates a memfd holding <paramref name="contents"/> with exactly the given F_SEAL_* bits added.</summary>
    public static SafeFdHandle Memfd(ReadOnlySpan<byte> contents, int seals)
    {
        var memfd = new SafeFdHandle();
        ReadOnlySpan<byte> name = "hostile\0"u8;
        fixed (byte* n = name)
        {
            int fd = Interop.MemfdCreate(n, Interop.MFD_CLOEXEC | Interop.MFD_ALLOW_SEALING);
            if (fd < 0)
            {
                throw new InvalidOperationException($"memfd_create failed: {Marshal.GetLastPInvokeError()}");
            }

            memfd.SetFd(fd);
        }

        fixed (byte* c = contents)
        {
            if (contents.Length > 0 && Interop.PWrite(memfd, c, (nuint)contents.Length, 0) != contents.Length)
            {
                throw new InvalidOperationException($"pwrite failed: {Marshal.GetLastPInvokeError()}");
            }
        }

        if (seals != 0 && Interop.Fcntl(memfd, Interop.F_ADD_SEALS, seals) != 0)
        {
            throw new InvalidOperationException($"F_ADD_SEALS failed: {Marshal.GetLastPInvokeError()}");
        }

        return memfd;
    }

    /// <summary>The seals the transport requires on memfds it receives.</summary>
    public const int AllSeals = Interop.F_SEAL_SHRINK | Interop.F_SEAL_GROW | Interop.F_SEAL_WRITE | Interop.F_SEAL_SEAL;
}
