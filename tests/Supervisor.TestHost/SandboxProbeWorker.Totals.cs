using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.TestHost;

/// <summary>The probes of the worker's totals: native memory, descriptors in flight.</summary>
public sealed unsafe partial class SandboxProbeWorker
{
    private const int AF_UNIX = 1;
    private const int SOCK_DGRAM = 2;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1;
    private const int SCM_RIGHTS = 1;
    private const int MSG_DONTWAIT = 0x40;
    private const int FdsPerMessage = 250;

    /// <summary>Native blocks kept alive (never freed: the worker is meant to die of them).</summary>
    private readonly List<nint> _native = new();

    /// <summary>The socketpairs whose queues hold descriptors in flight (never read, never closed).</summary>
    private readonly List<int> _heldPairs = new();

    /// <summary>Allocates and touches <paramref name="megabytes"/> MiB of native memory; past RLIMIT_DATA this throws OutOfMemoryException, on which the sandbox fails fast.</summary>
    private SandboxReport NativeAlloc(int megabytes)
    {
        const int Block = 16;
        for (int done = 0; done < megabytes; done += Block)
        {
            byte* block = (byte*)NativeMemory.Alloc(Block << 20);
            new Span<byte>(block, Block << 20).Fill(1);
            _native.Add((nint)block);
        }

        return new SandboxReport(true, $"allocated {megabytes} MiB natively", true, "");
    }

    /// <summary>
    /// Queues <paramref name="count"/> descriptors in flight (one descriptor, <see cref="FdsPerMessage"/> times per
    /// message) on a datagram socketpair it keeps and never reads; the kernel counts them against this user.
    /// </summary>
    private SandboxReport HoldInFlight(int count)
    {
        int* pair = stackalloc int[2];
        if (SocketPair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) != 0)
        {
            return new SandboxReport(false, $"socketpair failed, errno {Marshal.GetLastPInvokeError()}", false, "");
        }

        _heldPairs.Add(pair[0]);
        _heldPairs.Add(pair[1]);
        int held = 0;
        int errno = 0;
        while (held < count)
        {
            int batch = Math.Min(FdsPerMessage, count - held);
            errno = SendFds(pair[0], pair[1], batch);
            if (errno != 0)
            {
                break;
            }

            held += batch;
        }

        return new SandboxReport(errno == 0, $"held {held} errno={errno}", errno == 0, "");
    }

    private static int SendFds(int socket, int fd, int count)
    {
        int header = sizeof(CMsgHdr);
        int space = header + (((count * sizeof(int)) + 7) & ~7);
        byte* control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        *(CMsgHdr*)control = new CMsgHdr { Length = (nuint)(header + (count * sizeof(int))), Level = SOL_SOCKET, Type = SCM_RIGHTS };
        new Span<int>(control + header, count).Fill(fd);
        byte payload = 1;
        var iov = new IoVec { Base = &payload, Length = 1 };
        var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
        return SendMsg(socket, &message, MSG_DONTWAIT) < 0 ? Marshal.GetLastPInvokeError() : 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
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
    private struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(int fd, MsgHdr* message, int flags);
}
