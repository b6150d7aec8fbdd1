using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using static IpcChannel.Sandbox.TestWorker.Native;

namespace IpcChannel.Tests.Support;

/// <summary>
/// Queues descriptors in flight the way an attacking worker does: one descriptor, many times per message, on a
/// SOCK_SEQPACKET socketpair (the type the sandbox's seccomp filter allows) that is kept and never read; the kernel counts them against the sender's user. Shared by the
/// sandbox test worker and the supervisor test host (linked into both, with <c>Native.cs</c>, whose raw calls it uses).
/// </summary>
internal static unsafe class InFlightDescriptors
{
    /// <summary>The most descriptors one SCM_RIGHTS message carries here (the kernel's SCM_MAX_FD is 253).</summary>
    public const int PerMessage = 250;

    private const int MSG_DONTWAIT = 0x40;

    /// <summary>
    /// Queues up to <paramref name="count"/> descriptors on a new socketpair whose two descriptors are added to
    /// <paramref name="keep"/> (close them, or exit, to let go); stops at the first failing send.
    /// </summary>
    /// <returns>How many are in flight, and the errno that stopped it (0: none).</returns>
    public static (int Held, int Errno) Hold(int count, List<int> keep)
    {
        int* pair = stackalloc int[2];
        if (SocketPair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        {
            return (0, Marshal.GetLastPInvokeError());
        }

        keep.Add(pair[0]);
        keep.Add(pair[1]);
        int held = 0;
        while (held < count)
        {
            int batch = Math.Min(PerMessage, count - held);
            int errno = Send(pair[0], pair[1], batch);
            if (errno != 0)
            {
                return (held, errno);
            }

            held += batch;
        }

        return (held, 0);
    }

    /// <summary>Sends <paramref name="count"/> copies of <paramref name="fd"/> in one message on <paramref name="socket"/>; returns the errno, or 0.</summary>
    public static int Send(int socket, int fd, int count)
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

    /// <summary>Sends one descriptor over a fresh socketpair (then closes it); returns the errno, or 0.</summary>
    public static int SendOne()
    {
        var pair = new List<int>();
        (int held, int errno) = Hold(1, pair);
        foreach (int fd in pair)
        {
            _ = Close(fd);
        }

        return held == 1 ? 0 : errno;
    }
}
