using System;
using System.Runtime.InteropServices;

namespace IpcChannel.Bench;

/// <summary>The raw system calls the baselines and the placement code use (libc, no wrapper).</summary>
internal static unsafe partial class Native
{
    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;
    public const int RLIMIT_NOFILE = 7;
    public const int EINTR = 4;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    public static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint length);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint length);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SchedSetAffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    public static partial int SchedGetAffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    public static partial int SetRLimit(int resource, RLimit* limit);

    public static int CMsgAlign(int length) => (length + nint.Size - 1) & ~(nint.Size - 1);

    public static int CMsgSpace(int dataLength) => CMsgAlign(sizeof(CMsgHdr)) + CMsgAlign(dataLength);

    public static int CMsgLen(int dataLength) => CMsgAlign(sizeof(CMsgHdr)) + dataLength;

    public static Exception Error(string what) => new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");

    /// <summary>A socketpair whose first end is close-on-exec and whose second end a child inherits.</summary>
    public static (int Parent, int Child) InheritablePair(int type)
    {
        int* fds = stackalloc int[2];
        if (SocketPair(AF_UNIX, type, 0, fds) != 0)
        {
            throw Error("socketpair");
        }

        if (Fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0)
        {
            throw Error("fcntl(FD_CLOEXEC)");
        }

        return (fds[0], fds[1]);
    }

    /// <summary>Restricts the calling thread (and so every process it starts) to one CPU.</summary>
    public static void PinCurrentThread(int cpu)
    {
        ulong* mask = stackalloc ulong[16];
        new Span<ulong>(mask, 16).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        if (SchedSetAffinity(0, 16 * sizeof(ulong), mask) != 0)
        {
            throw Error($"sched_setaffinity(cpu {cpu})");
        }
    }

    /// <summary>Sets the calling thread's mask back to <paramref name="cpus"/>.</summary>
    public static void SetCurrentThreadMask(ReadOnlySpan<ulong> cpus)
    {
        ulong* mask = stackalloc ulong[16];
        new Span<ulong>(mask, 16).Clear();
        cpus.CopyTo(new Span<ulong>(mask, 16));
        if (SchedSetAffinity(0, 16 * sizeof(ulong), mask) != 0)
        {
            throw Error("sched_setaffinity");
        }
    }

    /// <summary>The calling thread's CPU mask.</summary>
    public static ulong[] CurrentThreadMask()
    {
        ulong* mask = stackalloc ulong[16];
        if (SchedGetAffinity(0, 16 * sizeof(ulong), mask) != 0)
        {
            throw Error("sched_getaffinity");
        }

        return new Span<ulong>(mask, 16).ToArray();
    }

    public static void SendAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint sent = Send(fd, start + done, (nuint)(data.Length - done), MSG_NOSIGNAL);
                if (sent < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR)
                    {
                        continue;
                    }

                    throw Error("send");
                }

                done += (int)sent;
            }
        }
    }

    /// <summary>Reads exactly <paramref name="data"/>.Length bytes of a stream socket.</summary>
    public static void ReceiveExactly(int fd, Span<byte> data)
    {
        fixed (byte* start = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint got = Recv(fd, start + done, (nuint)(data.Length - done), 0);
                if (got < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR)
                    {
                        continue;
                    }

                    throw Error("recv");
                }

                if (got == 0)
                {
                    throw new InvalidOperationException("the peer closed the stream");
                }

                done += (int)got;
            }
        }
    }

    /// <summary>Sends one datagram.</summary>
    public static void SendDatagram(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            while (Send(fd, start, (nuint)data.Length, MSG_NOSIGNAL) < 0)
            {
                if (Marshal.GetLastPInvokeError() != EINTR)
                {
                    throw Error("send");
                }
            }
        }
    }

    /// <summary>Receives one datagram; returns its length.</summary>
    public static int ReceiveDatagram(int fd, Span<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            while (true)
            {
                nint got = Recv(fd, start, (nuint)buffer.Length, 0);
                if (got > 0)
                {
                    return (int)got;
                }

                if (got == 0)
                {
                    throw new InvalidOperationException("the peer closed the socket");
                }

                if (Marshal.GetLastPInvokeError() != EINTR)
                {
                    throw Error("recv");
                }
            }
        }
    }

    /// <summary>sendmsg of an 8-byte datagram carrying <paramref name="fds"/>, then closes them (a move).</summary>
    public static void SendFds(int socket, ReadOnlySpan<int> fds)
    {
        byte* payload = stackalloc byte[8];
        new Span<byte>(payload, 8).Clear();
        IoVec iov = new() { Base = payload, Length = 8 };
        int controlLength = fds.IsEmpty ? 0 : CMsgSpace(fds.Length * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlLength, 1)];
        MsgHdr msg = default;
        msg.Iov = &iov;
        msg.IovLength = 1;
        if (controlLength > 0)
        {
            new Span<byte>(control, controlLength).Clear();
            var header = (CMsgHdr*)control;
            header->Length = (nuint)CMsgLen(fds.Length * sizeof(int));
            header->Level = SOL_SOCKET;
            header->Type = SCM_RIGHTS;
            fds.CopyTo(new Span<int>(control + CMsgAlign(sizeof(CMsgHdr)), fds.Length));
            msg.Control = control;
            msg.ControlLength = (nuint)controlLength;
        }

        while (SendMsg(socket, &msg, MSG_NOSIGNAL) < 0)
        {
            if (Marshal.GetLastPInvokeError() != EINTR)
            {
                throw Error("sendmsg");
            }
        }

        foreach (int fd in fds)
        {
            Close(fd);
        }
    }

    /// <summary>recvmsg of one datagram with descriptors; returns how many arrived (written to <paramref name="fds"/>).</summary>
    public static int ReceiveFds(int socket, Span<int> fds)
    {
        byte* payload = stackalloc byte[8];
        IoVec iov = new() { Base = payload, Length = 8 };
        int controlLength = CMsgSpace(253 * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        MsgHdr msg = default;
        msg.Iov = &iov;
        msg.IovLength = 1;
        msg.Control = control;
        msg.ControlLength = (nuint)controlLength;
        nint got;
        while ((got = RecvMsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0)
        {
            if (Marshal.GetLastPInvokeError() != EINTR)
            {
                throw Error("recvmsg");
            }
        }

        if (got == 0)
        {
            throw new InvalidOperationException("the peer closed the socket");
        }

        int count = 0;
        if (msg.ControlLength >= (nuint)sizeof(CMsgHdr))
        {
            var header = (CMsgHdr*)control;
            if (header->Level == SOL_SOCKET && header->Type == SCM_RIGHTS)
            {
                count = ((int)header->Length - CMsgAlign(sizeof(CMsgHdr))) / sizeof(int);
                new ReadOnlySpan<int>(control + CMsgAlign(sizeof(CMsgHdr)), count).CopyTo(fds);
            }
        }

        return count;
    }

    /// <summary>Raises RLIMIT_NOFILE to at least <paramref name="wanted"/> (the hard limit too, when allowed).</summary>
    /// <returns>The soft limit now in force.</returns>
    public static ulong RaiseFileLimit(ulong wanted)
    {
        RLimit limit;
        if (GetRLimit(RLIMIT_NOFILE, &limit) != 0)
        {
            return 0;
        }

        if (limit.Current >= wanted)
        {
            return limit.Current;
        }

        RLimit raised = new() { Current = wanted, Maximum = Math.Max(limit.Maximum, wanted) };
        if (SetRLimit(RLIMIT_NOFILE, &raised) == 0)
        {
            return wanted;
        }

        raised = new RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
        return SetRLimit(RLIMIT_NOFILE, &raised) == 0 ? limit.Maximum : limit.Current;
    }
}
