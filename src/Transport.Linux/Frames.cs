using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace IpcChannel.Transport.Linux;

/// <summary>
/// The wire format on one SOCK_SEQPACKET socket, and the code that sends and receives it.
/// </summary>
/// <remarks>
/// <para>Every message is exactly one datagram on the channel's socket, so messages from many senders
/// never interleave and a receive is never left with half a message:</para>
/// <code>
/// header (16 bytes, little-endian): u32 payloadLength | u32 channelCount | u32 regionCount | u16 flags | u16 magic 'IC'
/// body: payload bytes, then one u32 length per shared-memory region (the region table)
/// SCM_RIGHTS: channel fds, then region fds, then (flag BodyInMemfd) the body memfd
/// </code>
/// <para>A body that does not fit in <see cref="MaxDatagram"/> travels in a sealed memfd instead (the
/// datagram is then the header alone), so a large send never waits for the reader and a try-receive never
/// waits for the rest of a message. When a message has more descriptors than one control message can
/// carry (253), the first 252 ride on the datagram with, last, one end of a fresh socketpair (flag
/// SideChannel) on which the sender queued the rest, 253 per datagram, before sending the main datagram.</para>
/// <para>Nothing read off the wire is trusted: lengths, counts, flags, descriptor counts, memfd sizes and
/// seals are all checked, and any violation discards the message and closes every descriptor it carried.</para>
/// </remarks>
internal static unsafe class Frames
{
    /// <summary>Size of the frame header.</summary>
    public const int HeaderSize = 16;

    /// <summary>The largest datagram this transport sends or accepts (header included).</summary>
    public const int MaxDatagram = 128 * 1024;

    /// <summary>The largest inline body (payload plus region table).</summary>
    public const int MaxInlineBody = MaxDatagram - HeaderSize;

    /// <summary>The kernel's limit of descriptors in one SCM_RIGHTS message (SCM_MAX_FD).</summary>
    public const int MaxFdsPerDatagram = 253;

    /// <summary>Side-channel datagrams a message may use; bounded so the sender can queue them all unread.</summary>
    public const int MaxSideDatagrams = 200;

    /// <summary>The most descriptors (channels, regions and the body memfd) one message may carry.</summary>
    public const int MaxFdsPerMessage = (MaxFdsPerDatagram - 1) + (MaxSideDatagrams * MaxFdsPerDatagram);

    /// <summary>Room for one full SCM_RIGHTS control message.</summary>
    public static readonly int ControlBufferSize = Interop.CMsgSpace(MaxFdsPerDatagram * sizeof(int));

    private const ushort Magic = 0x4943; // "IC"
    private const ushort FlagBodyInMemfd = 0x1;
    private const ushort FlagSideChannel = 0x2;
    private const ushort FlagBodyInSideChannel = 0x4;
    private const ushort KnownFlags = FlagBodyInMemfd | FlagSideChannel | FlagBodyInSideChannel;

    /// <summary>The size of one body fragment on a side channel.</summary>
    private const int StreamFragmentSize = 1024 * 1024;

    /// <summary>The send buffer asked for on a side channel that carries a body (capped by net.core.wmem_max).</summary>
    private const int StreamSendBuffer = 4 * 1024 * 1024;

    /// <summary>
    /// The largest body streamed through a side channel: the bytes a side channel's buffer holds unread here
    /// (measured once), at most 6 MiB. Larger bodies go through a memfd.
    /// </summary>
    private static readonly Lazy<long> s_streamLimit = new(MeasureStreamLimit);
    private const int MaxControlBufferOnStack = 1100;

    private static ReadOnlySpan<byte> MemfdName => "ipc-channel\0"u8;

    // ------------------------------------------------------------------ send

    /// <summary>Sends one message as one datagram (plus a memfd body or a side channel when needed).</summary>
    /// <param name="socket">The sender's socket.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="channels">Channel ends to transfer (must be this transport's).</param>
    /// <param name="regions">Regions to transfer (must be this transport's).</param>
    /// <param name="dontWait">Fail with EAGAIN instead of blocking when the socket buffer is full.</param>
    /// <returns>0 when sent, <see cref="Interop.Errno.EAGAIN"/> when <paramref name="dontWait"/> and full.</returns>
    public static int Send(
        SafeFdHandle socket,
        ReadOnlySpan<byte> payload,
        ReadOnlySpan<TransportChannelEnd> channels,
        ReadOnlySpan<TransportSharedMemory> regions,
        bool dontWait)
    {
        int handleCount = channels.Length + regions.Length;
        if (handleCount > MaxFdsPerMessage - 1)
        {
            throw new IpcException(
                $"A message may carry at most {MaxFdsPerMessage - 1} channels and shared-memory regions; this one has {handleCount}. Nothing was sent.");
        }

        int tableLength = regions.Length * sizeof(uint);
        long bodyLength = (long)payload.Length + tableLength;
        bool inline = bodyLength <= MaxInlineBody;

        Span<byte> header = stackalloc byte[HeaderSize];
        Span<byte> table = tableLength <= 1024 ? stackalloc byte[tableLength] : new byte[tableLength];
        for (int i = 0; i < regions.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(table.Slice(i * 4), (uint)regions[i].Length);
        }

        int fdCapacity = handleCount + 1;
        int[]? rentedFds = fdCapacity > MaxFdsPerDatagram ? ArrayPool<int>.Shared.Rent(fdCapacity) : null;
        Span<int> fds = rentedFds is null ? stackalloc int[MaxFdsPerDatagram] : rentedFds;
        int referenced = 0;
        int body = -1; // the body memfd lives only during this call: a raw descriptor, closed in the finally
        try
        {
            // Reference every handle first: a disposed one fails here, before anything is sent.
            for (int i = 0; i < channels.Length; i++)
            {
                fds[referenced] = AddRef(OwnerOf(channels[i]));
                referenced++;
            }

            for (int i = 0; i < regions.Length; i++)
            {
                fds[referenced] = AddRef(OwnerOf(regions[i]));
                referenced++;
            }

            if (inline)
            {
                WriteHeader(header, payload.Length, channels.Length, regions.Length, 0);
                int result = SendWithSideChannelIfNeeded(socket, header, payload, table, fds.Slice(0, handleCount), dontWait);
                if (result is not (Interop.Errno.EMSGSIZE or Interop.Errno.ENOBUFS))
                {
                    return result;
                }

                // The socket's buffer is smaller than our inline limit: fall back to a memfd body.
            }

            if (bodyLength <= s_streamLimit.Value)
            {
                // Two copies and no page allocation: the body is queued, whole, on a private socketpair
                // with a large buffer before the main datagram goes out. If it does not fit, use a memfd.
                WriteHeader(header, payload.Length, channels.Length, regions.Length, FlagBodyInSideChannel);
                int result = SendWithSideChannel(socket, header, payload, table, fds.Slice(0, handleCount), streamBody: true, dontWait, out bool fitted);
                if (fitted)
                {
                    return result;
                }
            }

            body = CreateRawSealedMemfd(payload, table);
            fds[handleCount] = body;
            WriteHeader(header, payload.Length, channels.Length, regions.Length, FlagBodyInMemfd);
            int memfdResult = SendWithSideChannelIfNeeded(socket, header, default, default, fds.Slice(0, handleCount + 1), dontWait);
            if (memfdResult is Interop.Errno.EMSGSIZE or Interop.Errno.ENOBUFS)
            {
                throw Errors.ForErrno(memfdResult, "sendmsg on an IPC channel");
            }

            return memfdResult;
        }
        finally
        {
            if (body >= 0)
            {
                Interop.Close(body);
            }

            int released = 0;
            for (int i = 0; i < channels.Length && released < referenced; i++, released++)
            {
                OwnerOf(channels[i]).DangerousRelease();
            }

            for (int i = 0; i < regions.Length && released < referenced; i++, released++)
            {
                OwnerOf(regions[i]).DangerousRelease();
            }

            if (rentedFds is not null)
            {
                ArrayPool<int>.Shared.Return(rentedFds);
            }
        }
    }

    private static int SendWithSideChannelIfNeeded(
        SafeFdHandle socket, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> table, Span<int> fds, bool dontWait)
    {
        if (fds.Length <= MaxFdsPerDatagram)
        {
            return SendDatagram(socket, header, payload, table, fds, Interop.MSG_NOSIGNAL | (dontWait ? Interop.MSG_DONTWAIT : 0));
        }

        return SendWithSideChannel(socket, header, payload, table, fds, streamBody: false, dontWait, out _);
    }

    /// <summary>
    /// Sends a message through a private socketpair whose receiving end rides, last, with the main datagram:
    /// descriptors beyond the first 252 are queued on it (253 per datagram, each with a u32 count), then, when
    /// <paramref name="streamBody"/>, the body in fragments. Everything is queued before the main datagram is
    /// sent, so the receiver never waits for the rest of a message.
    /// </summary>
    /// <param name="socket">The channel's socket.</param>
    /// <param name="header">The frame header (flags for the side channel are added here).</param>
    /// <param name="payload">The payload.</param>
    /// <param name="table">The region table.</param>
    /// <param name="fds">Every descriptor of the message.</param>
    /// <param name="streamBody">Whether the body travels on the side channel (else in the datagram).</param>
    /// <param name="dontWait">Whether the main datagram may block.</param>
    /// <param name="fitted">False when the body did not fit in the side channel's buffer; nothing was sent.</param>
    /// <returns>0, or the errno of the main datagram's send.</returns>
    private static int SendWithSideChannel(
        SafeFdHandle socket, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> table, Span<int> fds, bool streamBody, bool dontWait, out bool fitted)
    {
        fitted = true;

        // The pair lives only during this call (the receiving end is duplicated into the datagram): raw descriptors.
        CreateRawSocketPair(out int sideSend, out int sideReceive);
        try
        {
            bool overflow = fds.Length > MaxFdsPerDatagram - 1;
            if (overflow)
            {
                Span<byte> chunkHeader = stackalloc byte[sizeof(int)];
                Span<int> rest = fds.Slice(MaxFdsPerDatagram - 1);
                while (!rest.IsEmpty)
                {
                    int count = Math.Min(rest.Length, MaxFdsPerDatagram);
                    BinaryPrimitives.WriteInt32LittleEndian(chunkHeader, count);
                    int error = SendDatagram(sideSend, chunkHeader, default, default, rest.Slice(0, count), Interop.MSG_NOSIGNAL | Interop.MSG_DONTWAIT);
                    if (error != 0)
                    {
                        throw Errors.ForErrno(error, "queueing descriptors on a side channel");
                    }

                    rest = rest.Slice(count);
                }
            }

            if (streamBody)
            {
                SetSendBuffer(sideSend, StreamSendBuffer);
                long total = (long)payload.Length + table.Length;
                long done = 0;
                while (done < total)
                {
                    int chunk = (int)Math.Min(total - done, StreamFragmentSize);
                    ReadOnlySpan<byte> fromPayload = done < payload.Length
                        ? payload.Slice((int)done, (int)Math.Min(chunk, payload.Length - done))
                        : default;
                    int tableStart = (int)Math.Max(0, done - payload.Length);
                    ReadOnlySpan<byte> fromTable = table.Slice(tableStart, chunk - fromPayload.Length);
                    int error = SendDatagram(sideSend, fromPayload, fromTable, default, default, Interop.MSG_NOSIGNAL | Interop.MSG_DONTWAIT);
                    if (error is Interop.Errno.EAGAIN or Interop.Errno.EMSGSIZE or Interop.Errno.ENOBUFS)
                    {
                        fitted = false;
                        return 0;
                    }

                    if (error != 0)
                    {
                        throw Errors.ForErrno(error, "queueing a message body on a side channel");
                    }

                    done += chunk;
                }
            }

            Span<byte> mainHeader = stackalloc byte[HeaderSize];
            header.CopyTo(mainHeader);
            if (overflow)
            {
                ushort headerFlags = BinaryPrimitives.ReadUInt16LittleEndian(mainHeader.Slice(12));
                BinaryPrimitives.WriteUInt16LittleEndian(mainHeader.Slice(12), (ushort)(headerFlags | FlagSideChannel));
            }

            int inMain = Math.Min(fds.Length, MaxFdsPerDatagram - 1);
            Span<int> first = stackalloc int[MaxFdsPerDatagram];
            fds.Slice(0, inMain).CopyTo(first);
            first[inMain] = sideReceive;
            return SendDatagram(
                socket,
                mainHeader,
                streamBody ? default : payload,
                streamBody ? default : table,
                first.Slice(0, inMain + 1),
                Interop.MSG_NOSIGNAL | (dontWait ? Interop.MSG_DONTWAIT : 0));
        }
        finally
        {
            Interop.Close(sideSend);
            Interop.Close(sideReceive);
        }
    }

    private static void SetSendBuffer(int socket, int size)
    {
        // Capped by net.core.wmem_max; a smaller buffer only means larger bodies go through a memfd.
        _ = Interop.SetSockOpt(socket, Interop.SOL_SOCKET, Interop.SO_SNDBUF, &size, sizeof(int));
    }

    private static long MeasureStreamLimit()
    {
        CreateRawSocketPair(out int a, out int b);
        try
        {
            SetSendBuffer(a, StreamSendBuffer);
            int effective = 0;
            uint length = sizeof(int);
            if (Interop.GetSockOpt(a, Interop.SOL_SOCKET, Interop.SO_SNDBUF, &effective, &length) != 0)
            {
                return 0;
            }

            // Leave room for per-datagram overhead; the kernel reports twice the size asked for.
            return Math.Min(6L * 1024 * 1024, effective * 3L / 4);
        }
        finally
        {
            Interop.Close(a);
            Interop.Close(b);
        }
    }

    /// <summary>One sendmsg on a channel's socket, retried on EINTR. Returns 0 or the errno for the caller to interpret.</summary>
    private static int SendDatagram(
        SafeFdHandle socket, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> table, ReadOnlySpan<int> fds, int flags)
    {
        using var borrowed = new BorrowedFd(socket);
        return SendDatagram(borrowed.Fd, header, payload, table, fds, flags);
    }

    /// <summary>One sendmsg on a raw descriptor the caller keeps open, retried on EINTR. Returns 0 or the errno.</summary>
    private static int SendDatagram(
        int socket, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> table, ReadOnlySpan<int> fds, int flags)
    {
        Debug.Assert(fds.Length <= MaxFdsPerDatagram);
        int controlLength = fds.IsEmpty ? 0 : Interop.CMsgSpace(fds.Length * sizeof(int));
        byte* control = stackalloc byte[controlLength == 0 ? 1 : controlLength];
        if (controlLength != 0)
        {
            new Span<byte>(control, controlLength).Clear();
            var cmsg = (Interop.CMsgHdr*)control;
            cmsg->cmsg_len = (nuint)Interop.CMsgLen(fds.Length * sizeof(int));
            cmsg->cmsg_level = Interop.SOL_SOCKET;
            cmsg->cmsg_type = Interop.SCM_RIGHTS;
            fds.CopyTo(new Span<int>(control + Interop.CMsgAlign(sizeof(Interop.CMsgHdr)), fds.Length));
        }

        fixed (byte* h = header)
        fixed (byte* p = payload)
        fixed (byte* t = table)
        {
            Interop.IoVec* iov = stackalloc Interop.IoVec[3];
            int iovCount = 0;
            iov[iovCount++] = new Interop.IoVec { iov_base = h, iov_len = (nuint)header.Length };
            if (!payload.IsEmpty)
            {
                iov[iovCount++] = new Interop.IoVec { iov_base = p, iov_len = (nuint)payload.Length };
            }

            if (!table.IsEmpty)
            {
                iov[iovCount++] = new Interop.IoVec { iov_base = t, iov_len = (nuint)table.Length };
            }

            Interop.MsgHdr msg = default;
            msg.msg_iov = iov;
            msg.msg_iovlen = (nuint)iovCount;
            msg.msg_control = controlLength == 0 ? null : control;
            msg.msg_controllen = (nuint)controlLength;
            while (true)
            {
                nint sent = Interop.SendMsg(socket, &msg, flags);
                if (sent >= 0)
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

    private static void WriteHeader(Span<byte> header, int payloadLength, int channels, int regions, ushort flags)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(4), (uint)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(8), (uint)regions);
        BinaryPrimitives.WriteUInt16LittleEndian(header.Slice(12), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(header.Slice(14), Magic);
    }

    private static int AddRef(SafeFdHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        return (int)handle.DangerousGetHandle();
    }

    private static SafeFdHandle OwnerOf(TransportChannelEnd end) => end switch
    {
        LinuxSender s => s.Handle,
        LinuxReceiver r => r.Handle,
        _ => throw new ArgumentException($"A {end.GetType().Name} cannot travel over the Linux transport.", nameof(end)),
    };

    private static SafeFdHandle OwnerOf(TransportSharedMemory region) => region is LinuxSharedMemory m
        ? m.Handle
        : throw new ArgumentException($"A {region.GetType().Name} cannot travel over the Linux transport.", nameof(region));

    // ------------------------------------------------------------------ memfd

    /// <summary>Creates a memfd holding <paramref name="first"/> then <paramref name="second"/>, sealed against any change.</summary>
    /// <param name="first">The first part of the contents.</param>
    /// <param name="second">The second part.</param>
    /// <returns>The sealed memfd.</returns>
    public static SafeFdHandle CreateSealedMemfd(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var memfd = new SafeFdHandle(); // allocated first: once the memfd exists, nothing can throw before it is owned
        memfd.SetFd(CreateRawSealedMemfd(first, second));
        return memfd;
    }

    /// <summary>Creates an unsealed memfd of <paramref name="length"/> zero bytes.</summary>
    /// <param name="length">Its size.</param>
    /// <returns>The memfd.</returns>
    public static SafeFdHandle CreateMemfd(long length)
    {
        var memfd = new SafeFdHandle();
        memfd.SetFd(CreateRawMemfd(length));
        return memfd;
    }

    /// <summary>Seals a memfd against writes, growth, shrinking and further sealing.</summary>
    /// <param name="memfd">The memfd; it must have no writable shared mapping.</param>
    public static void Seal(SafeFdHandle memfd)
    {
        using var borrowed = new BorrowedFd(memfd);
        Seal(borrowed.Fd);
    }

    /// <summary>Checks that a received memfd is sealed against change and returns its size.</summary>
    /// <param name="memfd">The received descriptor.</param>
    /// <param name="what">What it is, for the error message.</param>
    /// <returns>Its size in bytes.</returns>
    public static long CheckSealedSize(SafeFdHandle memfd, string what)
    {
        using var borrowed = new BorrowedFd(memfd);
        return CheckSealedSize(borrowed.Fd, what);
    }

    /// <summary>
    /// Creates a memfd holding <paramref name="first"/> then <paramref name="second"/>, sealed against any change,
    /// as a raw descriptor the caller must close (a message body lives only during one send).
    /// </summary>
    private static int CreateRawSealedMemfd(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        int memfd = CreateRawMemfd((long)first.Length + second.Length);
        try
        {
            PWriteAll(memfd, first, 0);
            PWriteAll(memfd, second, first.Length);
            Seal(memfd);
            return memfd;
        }
        catch
        {
            Interop.Close(memfd);
            throw;
        }
    }

    /// <summary>Creates an unsealed memfd of <paramref name="length"/> zero bytes; the caller must close it.</summary>
    private static int CreateRawMemfd(long length)
    {
        int memfd;
        fixed (byte* name = MemfdName)
        {
            memfd = Interop.MemfdCreate(name, Interop.MFD_CLOEXEC | Interop.MFD_ALLOW_SEALING);
            if (memfd < 0)
            {
                throw Errors.Last("memfd_create");
            }
        }

        if (length > 0 && Interop.FTruncate(memfd, length) != 0)
        {
            IpcException error = Errors.Last("ftruncate of a memfd");
            Interop.Close(memfd);
            throw error;
        }

        return memfd;
    }

    private static void Seal(int memfd)
    {
        if (Interop.Fcntl(memfd, Interop.F_ADD_SEALS, Interop.F_SEAL_SHRINK | Interop.F_SEAL_GROW | Interop.F_SEAL_WRITE | Interop.F_SEAL_SEAL) != 0)
        {
            throw Errors.Last("sealing a memfd");
        }
    }

    private static long CheckSealedSize(int memfd, string what)
    {
        int seals = Interop.Fcntl(memfd, Interop.F_GET_SEALS, 0);
        const int Required = Interop.F_SEAL_SHRINK | Interop.F_SEAL_GROW | Interop.F_SEAL_WRITE;
        if (seals < 0 || (seals & Required) != Required)
        {
            throw Malformed($"the {what} is not a memfd sealed against writing, growing and shrinking");
        }

        long size = Interop.LSeek(memfd, 0, Interop.SEEK_END);
        if (size < 0)
        {
            throw Errors.Last($"measuring the {what}");
        }

        return size;
    }

    private static void PWriteAll(int fd, ReadOnlySpan<byte> data, long offset)
    {
        fixed (byte* start = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint written = Interop.PWrite(fd, start + done, (nuint)(data.Length - done), offset + done);
                if (written < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Errno.EINTR)
                    {
                        continue;
                    }

                    throw Errors.ForErrno(errno, "writing a memfd");
                }

                done += (int)written;
            }
        }
    }

    private static void PReadExactly(int fd, Span<byte> destination, long offset, string what)
    {
        fixed (byte* start = destination)
        {
            int done = 0;
            while (done < destination.Length)
            {
                nint read = Interop.PRead(fd, start + done, (nuint)(destination.Length - done), offset + done);
                if (read < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Errno.EINTR)
                    {
                        continue;
                    }

                    throw Errors.ForErrno(errno, $"reading the {what}");
                }

                if (read == 0)
                {
                    throw Malformed($"the {what} ended early");
                }

                done += (int)read;
            }
        }
    }

    /// <summary>Creates a connected SOCK_SEQPACKET pair, close-on-exec.</summary>
    /// <returns>The two ends.</returns>
    public static (SafeFdHandle First, SafeFdHandle Second) CreateSocketPair()
    {
        var first = new SafeFdHandle(); // both allocated first: once the pair exists, nothing can throw before it is owned
        var second = new SafeFdHandle();
        try
        {
            CreateRawSocketPair(out int a, out int b);
            first.SetFd(a);
            second.SetFd(b);
        }
        catch
        {
            first.Dispose();
            second.Dispose();
            throw;
        }

        return (first, second);
    }

    /// <summary>Creates a connected SOCK_SEQPACKET pair, close-on-exec, as raw descriptors the caller must close.</summary>
    private static void CreateRawSocketPair(out int first, out int second)
    {
        int* fds = stackalloc int[2];
        if (Interop.SocketPair(Interop.AF_UNIX, Interop.SOCK_SEQPACKET | Interop.SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw Errors.Last("socketpair(AF_UNIX, SOCK_SEQPACKET)");
        }

        first = fds[0];
        second = fds[1];
    }

    // ------------------------------------------------------------------ receive

    /// <summary>Receives one message, appending its payload to <paramref name="destination"/>.</summary>
    /// <param name="socket">The receiver's socket.</param>
    /// <param name="destination">Gets the payload (only once the whole message checked out).</param>
    /// <param name="sizeHint">The previous payload size, used to ask <paramref name="destination"/> for room; updated.</param>
    /// <param name="maxMessageSize">Declared payload sizes above this are refused.</param>
    /// <param name="dontWait">Return <see cref="ReceiveStatus.Empty"/> instead of blocking.</param>
    /// <param name="handles">The message's handles, or <see langword="null"/>.</param>
    /// <returns>The status.</returns>
    public static ReceiveStatus Receive(
        SafeFdHandle socket, IBufferWriter<byte> destination, ref int sizeHint, int maxMessageSize, bool dontWait, out ReceivedHandles? handles)
    {
        handles = null;
        Span<byte> first = destination.GetSpan(Math.Clamp(sizeHint, 1, MaxInlineBody));
        if (first.Length > MaxInlineBody)
        {
            first = first.Slice(0, MaxInlineBody);
        }

        byte[]? spill = first.Length < MaxInlineBody ? ArrayPool<byte>.Shared.Rent(MaxInlineBody - first.Length) : null;
        int spillLength = spill is null ? 0 : MaxInlineBody - first.Length;
        Span<byte> header = stackalloc byte[HeaderSize];
        byte* control = stackalloc byte[ControlBufferSize];

        // Received descriptors stay raw until something takes ownership of one; the rest are closed below.
        var fds = new ReceivedFds(stackalloc int[MaxFdsPerDatagram]);
        try
        {
            nint received;
            int messageFlags;
            fixed (byte* h = header)
            fixed (byte* f = first)
            fixed (byte* s = spill)
            {
                Interop.IoVec* iov = stackalloc Interop.IoVec[3];
                iov[0] = new Interop.IoVec { iov_base = h, iov_len = HeaderSize };
                iov[1] = new Interop.IoVec { iov_base = f, iov_len = (nuint)first.Length };
                iov[2] = new Interop.IoVec { iov_base = s, iov_len = (nuint)spillLength };
                Interop.MsgHdr msg = default;
                msg.msg_iov = iov;
                msg.msg_iovlen = spill is null ? 2u : 3u;
                msg.msg_control = control;
                msg.msg_controllen = (nuint)ControlBufferSize;
                int flags = Interop.MSG_CMSG_CLOEXEC | (dontWait ? Interop.MSG_DONTWAIT : 0);
                while (true)
                {
                    received = Interop.RecvMsg(socket, &msg, flags);
                    if (received >= 0)
                    {
                        break;
                    }

                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Errno.EINTR)
                    {
                        continue;
                    }

                    if (errno == Interop.Errno.EAGAIN)
                    {
                        return ReceiveStatus.Empty;
                    }

                    throw Errors.ForErrno(errno, "recvmsg on an IPC channel");
                }

                messageFlags = msg.msg_flags;

                // Take ownership of every descriptor before looking at anything else.
                fds.AddFrom(&msg);
            }

            if (received == 0 && fds.Count == 0 && (messageFlags & Interop.MSG_TRUNC) == 0)
            {
                // End of file, or a zero-length datagram (which no IpcChannel sender produces).
                if (IsEndOfFile(socket))
                {
                    return ReceiveStatus.Closed;
                }

                throw Malformed("an empty datagram");
            }

            ReceiveStatus status = Complete(
                header, first, spill.AsSpan(0, spillLength), (int)received, messageFlags, ref fds, destination, maxMessageSize, out handles, out int payloadLength);
            sizeHint = payloadLength;
            return status;
        }
        finally
        {
            // Whatever Complete did not hand over: every descriptor on failure, the body memfd on success.
            fds.Dispose();
            if (spill is not null)
            {
                ArrayPool<byte>.Shared.Return(spill);
            }
        }
    }

    /// <summary>Validates one received datagram, gathers its handles and appends its payload.</summary>
    /// <remarks>
    /// Of <paramref name="fds"/>, wraps only the descriptors that outlive the call (channels, regions), once the
    /// frame checked out, and takes (and closes) the side channel; the caller closes everything left in it (all of
    /// it on failure, the body memfd on success) whatever happens here.
    /// </remarks>
    private static ReceiveStatus Complete(
        ReadOnlySpan<byte> header,
        Span<byte> first,
        ReadOnlySpan<byte> spill,
        int received,
        int messageFlags,
        ref ReceivedFds fds,
        IBufferWriter<byte> destination,
        int maxMessageSize,
        out ReceivedHandles? handles,
        out int payloadLength)
    {
        handles = null;
        payloadLength = 0;
        List<TransportSharedMemory>? regions = null;
        List<TransportReceivedChannel>? channels = null;
        int side = -1; // the side channel lives only during this call
        bool success = false;
        try
        {
            if ((messageFlags & Interop.MSG_CTRUNC) != 0)
            {
                throw Malformed("it carried more descriptors than fit in one control message (MSG_CTRUNC)");
            }

            if ((messageFlags & Interop.MSG_TRUNC) != 0)
            {
                throw Malformed($"its datagram was larger than {MaxDatagram} bytes (MSG_TRUNC)");
            }

            if (received < HeaderSize)
            {
                throw Malformed($"its datagram has {received} bytes, fewer than the {HeaderSize}-byte header");
            }

            uint declaredPayload = BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint channelCount = BinaryPrimitives.ReadUInt32LittleEndian(header.Slice(4));
            uint regionCount = BinaryPrimitives.ReadUInt32LittleEndian(header.Slice(8));
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(12));
            ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(14));
            if (magic != Magic || (flags & ~KnownFlags) != 0)
            {
                throw Malformed("its header is not an IpcChannel frame header");
            }

            if (declaredPayload > (uint)maxMessageSize)
            {
                throw Malformed($"it declares {declaredPayload} bytes, more than this receiver's limit of {maxMessageSize}");
            }

            bool bodyInMemfd = (flags & FlagBodyInMemfd) != 0;
            bool sideChannel = (flags & FlagSideChannel) != 0;
            bool bodyInSide = (flags & FlagBodyInSideChannel) != 0;
            if (bodyInMemfd && bodyInSide)
            {
                throw Malformed("its header puts the body both in a memfd and on a side channel");
            }

            ulong expectedFds = (ulong)channelCount + regionCount + (bodyInMemfd ? 1u : 0u);
            if (expectedFds > MaxFdsPerMessage)
            {
                throw Malformed($"it declares {expectedFds} descriptors, more than {MaxFdsPerMessage}");
            }

            int n = (int)declaredPayload;
            int c = (int)channelCount;
            int r = (int)regionCount;
            long tableLength = (long)r * sizeof(uint);
            int arrived = fds.Count;
            if (sideChannel || bodyInSide)
            {
                // The side channel is always the last descriptor of the main datagram.
                bool shapeOk = sideChannel
                    ? arrived == MaxFdsPerDatagram && expectedFds > MaxFdsPerDatagram - 1
                    : (ulong)arrived == expectedFds + 1;
                if (!shapeOk)
                {
                    throw Malformed($"it announces a side channel but carried {arrived} descriptors for {expectedFds}");
                }

                side = fds.TakeLast();
                if (sideChannel)
                {
                    ReadSideChannel(side, ref fds, (int)expectedFds);
                }
            }
            else if ((ulong)arrived != expectedFds)
            {
                throw Malformed($"it declares {expectedFds} descriptors but carried {arrived}");
            }

            // A hostile peer can put any descriptor in a channel slot: LinuxReceivedChannel checks it when it is
            // claimed as a receiver, and a sender checks it before its first send.

            // The region table: from the inline body, the side channel or the body memfd.
            Span<int> regionLengths = r <= 256 ? stackalloc int[r] : new int[r];
            int bodyFd = bodyInMemfd ? fds[c + r] : -1; // left in fds, which closes it
            int inlineLength = received - HeaderSize;
            Span<byte> streamed = default;
            if (bodyInSide)
            {
                if (inlineLength != 0)
                {
                    throw Malformed("its body is on a side channel but its datagram carries body bytes too");
                }

                byte[] tableBytes = tableLength == 0 ? [] : new byte[tableLength];
                streamed = destination.GetSpan(Math.Max(n, 1)).Slice(0, n);
                ReadStreamedBody(side, streamed, tableBytes);
                for (int i = 0; i < r; i++)
                {
                    regionLengths[i] = CheckedLength(BinaryPrimitives.ReadUInt32LittleEndian(tableBytes.AsSpan(i * sizeof(uint))));
                }
            }
            else if (bodyFd < 0)
            {
                if (inlineLength != n + tableLength)
                {
                    throw Malformed($"its body has {inlineLength} bytes where the header says {n + tableLength}");
                }

                Span<byte> tableBytes = stackalloc byte[sizeof(uint)];
                for (int i = 0; i < r; i++)
                {
                    int offset = n + (i * sizeof(uint));
                    for (int b = 0; b < sizeof(uint); b++)
                    {
                        int at = offset + b;
                        tableBytes[b] = at < first.Length ? first[at] : spill[at - first.Length];
                    }

                    regionLengths[i] = CheckedLength(BinaryPrimitives.ReadUInt32LittleEndian(tableBytes));
                }
            }
            else
            {
                if (inlineLength != 0)
                {
                    throw Malformed("its body is in a memfd but its datagram carries body bytes too");
                }

                long size = CheckSealedSize(bodyFd, "message body");
                if (size != n + tableLength)
                {
                    throw Malformed($"its body memfd has {size} bytes where the header says {n + tableLength}");
                }

                if (r > 0)
                {
                    byte[] tableBytes = new byte[tableLength];
                    PReadExactly(bodyFd, tableBytes, n, "message body");
                    for (int i = 0; i < r; i++)
                    {
                        regionLengths[i] = CheckedLength(BinaryPrimitives.ReadUInt32LittleEndian(tableBytes.AsSpan(i * sizeof(uint))));
                    }
                }
            }

            for (int i = 0; i < r; i++)
            {
                regions ??= new List<TransportSharedMemory>(r);
                regions.Add(LinuxSharedMemory.FromReceived(fds.TakeOwned(c + i), regionLengths[i])); // closes it if it throws
            }

            // Everything checked out: hand over the payload.
            if (bodyInSide)
            {
                destination.Advance(n);
            }
            else if (bodyFd < 0)
            {
                if (n <= first.Length)
                {
                    destination.Advance(n);
                }
                else
                {
                    destination.Advance(first.Length);
                    destination.Write(spill.Slice(0, n - first.Length));
                }
            }
            else
            {
                long offset = 0;
                while (offset < n)
                {
                    int chunk = (int)Math.Min(n - offset, 1 << 30);
                    Span<byte> target = destination.GetSpan(chunk).Slice(0, chunk);
                    PReadExactly(bodyFd, target, offset, "message body");
                    destination.Advance(chunk);
                    offset += chunk;
                }
            }

            if (c + r > 0)
            {
                channels = new List<TransportReceivedChannel>(c);
                for (int i = 0; i < c; i++)
                {
                    SafeFdHandle socket = fds.TakeOwned(i);
                    try
                    {
                        channels.Add(new LinuxReceivedChannel(socket));
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                }

                handles = new ReceivedHandles(channels, regions ?? new List<TransportSharedMemory>());
            }

            payloadLength = n;
            success = true;
            return ReceiveStatus.Message;
        }
        finally
        {
            if (side >= 0)
            {
                Interop.Close(side);
            }

            if (!success)
            {
                // Handles already made own their descriptors; the caller closes the ones still in fds.
                foreach (TransportSharedMemory region in regions ?? [])
                {
                    region.Dispose();
                }

                foreach (TransportReceivedChannel channel in channels ?? [])
                {
                    channel.Dispose();
                }
            }
        }
    }

    /// <summary>Throws unless <paramref name="fd"/> is an AF_UNIX SOCK_SEQPACKET socket (a peer's descriptor is never trusted).</summary>
    /// <param name="fd">The descriptor.</param>
    /// <param name="received">True when it is being claimed from a received message (the message is malformed);
    /// false when a received sender is used for the first time.</param>
    /// <exception cref="IpcSerializationException"><paramref name="received"/> and the check failed.</exception>
    /// <exception cref="IpcException">Not <paramref name="received"/> and the check failed.</exception>
    internal static void CheckIsChannelSocket(SafeFdHandle fd, bool received)
    {
        string? problem = ChannelSocketProblem(fd);
        if (problem is not null)
        {
            throw received
                ? Malformed($"a descriptor it carries as a channel {problem}")
                : new IpcException($"This sender's descriptor, received from a peer, {problem}: it cannot be an IPC channel. Nothing was sent.");
        }
    }

    /// <summary>What keeps a descriptor from being a channel's socket, or null when it is an AF_UNIX SOCK_SEQPACKET socket.</summary>
    /// <param name="fd">The descriptor.</param>
    /// <returns>"is not a SOCK_SEQPACKET socket", "is not an AF_UNIX socket", or null.</returns>
    internal static string? ChannelSocketProblem(SafeFdHandle fd)
    {
        int type = 0;
        int domain = 0;
        uint length = sizeof(int);
        string? problem = null;
        if (Interop.GetSockOpt(fd, Interop.SOL_SOCKET, Interop.SO_TYPE, &type, &length) != 0 || type != Interop.SOCK_SEQPACKET)
        {
            problem = "is not a SOCK_SEQPACKET socket";
        }
        else
        {
            length = sizeof(int);
            if (Interop.GetSockOpt(fd, Interop.SOL_SOCKET, Interop.SO_DOMAIN, &domain, &length) != 0 || domain != Interop.AF_UNIX)
            {
                problem = "is not an AF_UNIX socket";
            }
        }

        return problem;
    }

    private static int CheckedLength(uint length) => length <= int.MaxValue
        ? (int)length
        : throw Malformed($"it declares a shared-memory region of {length} bytes");

    /// <summary>
    /// Reads a body queued on a side channel: <paramref name="payload"/> then <paramref name="table"/>, exactly.
    /// The sender queued all of it before the main datagram, so nothing here waits.
    /// </summary>
    private static void ReadStreamedBody(int side, Span<byte> payload, Span<byte> table)
    {
        byte* control = stackalloc byte[ControlBufferSize];
        long total = (long)payload.Length + table.Length;
        long done = 0;
        Interop.IoVec* iov = stackalloc Interop.IoVec[2];
        fixed (byte* p = payload)
        fixed (byte* t = table)
        {
            while (done < total)
            {
                int count = 0;
                if (done < payload.Length)
                {
                    iov[count++] = new Interop.IoVec { iov_base = p + done, iov_len = (nuint)(payload.Length - done) };
                }

                long tableDone = Math.Max(0, done - payload.Length);
                if (tableDone < table.Length)
                {
                    iov[count++] = new Interop.IoVec { iov_base = t + tableDone, iov_len = (nuint)(table.Length - tableDone) };
                }

                Interop.MsgHdr msg = default;
                msg.msg_iov = iov;
                msg.msg_iovlen = (nuint)count;
                msg.msg_control = control;
                msg.msg_controllen = (nuint)ControlBufferSize;
                nint received = Interop.RecvMsg(side, &msg, Interop.MSG_CMSG_CLOEXEC | Interop.MSG_DONTWAIT);
                if (received < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Errno.EINTR)
                    {
                        continue;
                    }

                    throw errno == Interop.Errno.EAGAIN
                        ? Malformed($"its side channel held {done} of its {total} body bytes")
                        : Malformed($"its side channel cannot be read ({Errors.Name(errno)})");
                }

                var stray = new ReceivedFds(default); // no room: only a hostile peer sends any, and they are closed
                try
                {
                    if (stray.AddFrom(&msg) != 0)
                    {
                        throw Malformed("its body fragments carry descriptors");
                    }
                }
                finally
                {
                    stray.Dispose();
                }

                if ((msg.msg_flags & Interop.MSG_TRUNC) != 0)
                {
                    throw Malformed("a body fragment is longer than the body it belongs to");
                }

                if (received == 0)
                {
                    throw Malformed($"its side channel ended after {done} of its {total} body bytes");
                }

                done += received;
            }
        }
    }

    /// <summary>Reads the descriptors queued on a message's side channel until <paramref name="expected"/> are held.</summary>
    private static void ReadSideChannel(int side, ref ReceivedFds fds, int expected)
    {
        byte* control = stackalloc byte[ControlBufferSize];
        int* count = stackalloc int[1];
        while (fds.Count < expected)
        {
            Interop.IoVec iov = new() { iov_base = (byte*)count, iov_len = sizeof(int) };
            Interop.MsgHdr msg = default;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = (nuint)ControlBufferSize;
            nint received = Interop.RecvMsg(side, &msg, Interop.MSG_CMSG_CLOEXEC | Interop.MSG_DONTWAIT);
            if (received < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Errno.EINTR)
                {
                    continue;
                }

                // The side channel is a descriptor the peer chose: apart from a local shortage of memory, a
                // failure to read it (ENOTSOCK, ENOTCONN, EINVAL, ...) means the frame lied, not that this
                // channel broke (ENOTCONN must not surface as a disconnection of the channel itself).
                throw errno switch
                {
                    Interop.Errno.EAGAIN => Malformed($"its side channel held {fds.Count} of {expected} descriptors"),
                    Interop.Errno.ENOMEM or Interop.Errno.ENOBUFS => Errors.ForErrno(errno, "recvmsg on a side channel"),
                    _ => Malformed($"its side channel cannot be read ({Errors.Name(errno)})"),
                };
            }

            int chunk = fds.AddFrom(&msg);
            if (received == 0 || chunk == 0 || (msg.msg_flags & (Interop.MSG_CTRUNC | Interop.MSG_TRUNC)) != 0 || *count != chunk)
            {
                throw Malformed("its side channel is malformed");
            }
        }

        if (fds.Count != expected)
        {
            throw Malformed($"its side channel carried {fds.Count} descriptors for {expected}");
        }
    }

    /// <summary>
    /// Tells end-of-file from a zero-length datagram after a read of 0 bytes without descriptors: SOCK_SEQPACKET
    /// reports both as 0. It is end-of-file when the peer has shut down (POLLRDHUP) and no queued datagram holds a
    /// byte (FIONREAD sums every queued datagram). A peek cannot decide this: a second zero-length datagram also
    /// peeks as 0 bytes, so a peer that sent two would make the receiver believe, for good, that it was gone.
    /// </summary>
    private static bool IsEndOfFile(SafeFdHandle socket)
    {
        Interop.PollFd pollFd = default;
        bool referenced = false;
        socket.DangerousAddRef(ref referenced);
        try
        {
            pollFd = new() { fd = (int)socket.DangerousGetHandle(), events = Interop.POLLRDHUP };
            while (Interop.Poll(&pollFd, 1, 0) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR)
                {
                    throw Errors.ForErrno(errno, "poll on an IPC channel");
                }
            }
        }
        finally
        {
            if (referenced)
            {
                socket.DangerousRelease();
            }
        }

        if ((pollFd.revents & (Interop.POLLRDHUP | Interop.POLLHUP)) == 0)
        {
            return false; // the peer is still there: that was a datagram
        }

        int queued;
        if (Interop.Ioctl(socket, Interop.FIONREAD, &queued) != 0)
        {
            throw Errors.Last("ioctl(FIONREAD) on an IPC channel");
        }

        // Only zero-length datagrams (if anything) are left behind a peer that is gone: the channel is closed.
        return queued == 0;
    }

    private static IpcSerializationException Malformed(string what) => Errors.Malformed(what);

    /// <summary>A handle's descriptor, used raw while a reference keeps the handle from closing it (and the number from being reused).</summary>
    private readonly ref struct BorrowedFd
    {
        private readonly SafeFdHandle _handle;

        /// <summary>Adds a reference to <paramref name="handle"/>.</summary>
        /// <param name="handle">The handle.</param>
        /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
        public BorrowedFd(SafeFdHandle handle)
        {
            bool added = false;
            handle.DangerousAddRef(ref added); // throws, having added nothing, when the handle is closed
            _handle = handle;
            Fd = (int)handle.DangerousGetHandle();
        }

        /// <summary>The descriptor.</summary>
        public int Fd { get; }

        /// <summary>Releases the reference.</summary>
        public void Dispose() => _handle.DangerousRelease();
    }
}
