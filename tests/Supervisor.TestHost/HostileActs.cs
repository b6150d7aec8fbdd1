using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using IpcChannel.Sandbox.TestWorker;

namespace IpcChannel.Supervisor.TestHost;

/// <summary>
/// What a compromised worker does to its supervisor, from the attacker's side: raw frames and raw connections,
/// written without IpcChannel's own code (test code: ints for fds, errno read right after each call).
/// </summary>
internal static unsafe partial class HostileActs
{
    private const string Libc = "libc";
    private const int SO_TYPE = 3;
    private const int SO_DOMAIN = 39;
    private const int MSG_DONTWAIT = 0x40;
    private const uint MFD_ALLOW_SEALING = 2;
    private const int F_ADD_SEALS = 1033;
    private const int F_SEAL_SEAL = 1;
    private const int F_SEAL_SHRINK = 2;
    private const int F_SEAL_GROW = 4;
    private const int F_SEAL_WRITE = 8;

    /// <summary>Connections held open on purpose (never disposed while the worker runs).</summary>
    private static readonly List<Socket> s_held = new();

    /// <summary>
    /// Sends, on every AF_UNIX SOCK_SEQPACKET socket this process has (its channels to the parent among them), one
    /// IpcChannel frame whose body is a sealed, sparse memfd of <paramref name="size"/> bytes: it costs the worker
    /// nothing, and a receiver that allocates the declared size pays it all.
    /// </summary>
    /// <returns>How many sockets it was sent on.</returns>
    public static int SendSparseMemfdOnEveryChannel(long size)
    {
        int memfd = Native.MemfdCreate("bomb", Native.MFD_CLOEXEC | MFD_ALLOW_SEALING);
        Check(memfd >= 0, "memfd_create");
        try
        {
            Check(FTruncate(memfd, size) == 0, "ftruncate");
            Check(Fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0, "F_ADD_SEALS");

            // The frame header: payload size, channel count, region count, flags (body in a memfd), magic "IC".
            byte* header = stackalloc byte[16];
            *(uint*)header = (uint)size;
            *(uint*)(header + 4) = 0;
            *(uint*)(header + 8) = 0;
            *(ushort*)(header + 12) = 1;
            *(ushort*)(header + 14) = 0x4943;
            int sent = 0;
            foreach (int fd in SeqpacketSockets())
            {
                if (SendWithFd(fd, header, 16, memfd) >= 0)
                {
                    sent++;
                }
            }

            return sent;
        }
        finally
        {
            _ = Native.Close(memfd);
        }
    }

    /// <summary>Opens <paramref name="count"/> raw connections to the server named <paramref name="name"/> and holds
    /// them without sending anything.</summary>
    /// <returns>How many connections were made (a refused one is not counted).</returns>
    public static int HoldSilentConnections(string name, int count)
    {
        int made = 0;
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(name));
                made++;
                lock (s_held)
                {
                    s_held.Add(socket);
                }
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        return made;
    }

    private static IEnumerable<int> SeqpacketSockets()
    {
        foreach (string entry in Directory.GetFiles("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), out int fd) && IntOption(fd, SO_TYPE) == Native.SOCK_SEQPACKET && IntOption(fd, SO_DOMAIN) == Native.AF_UNIX)
            {
                yield return fd;
            }
        }
    }

    private static int IntOption(int fd, int option)
    {
        int value = -1;
        uint length = sizeof(int);
        return GetSockOpt(fd, Native.SOL_SOCKET, option, &value, &length) == 0 ? value : -1;
    }

    private static nint SendWithFd(int socket, byte* data, int length, int fd)
    {
        Native.IoVec iov = new() { Base = data, Length = (nuint)length };
        int controlLength = sizeof(Native.CMsgHdr) + 8; // CMSG_SPACE(sizeof(int))
        byte* control = stackalloc byte[controlLength];
        new Span<byte>(control, controlLength).Clear();
        var cmsg = (Native.CMsgHdr*)control;
        cmsg->Length = (nuint)(sizeof(Native.CMsgHdr) + sizeof(int));
        cmsg->Level = Native.SOL_SOCKET;
        cmsg->Type = Native.SCM_RIGHTS;
        *(int*)(control + sizeof(Native.CMsgHdr)) = fd;
        Native.MsgHdr message = new() { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)controlLength };
        return Native.SendMsg(socket, &message, MSG_DONTWAIT);
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
        {
            throw new IOException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport(Libc, EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(Libc, EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOpt(int fd, int level, int option, void* value, uint* length);
}
