using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Libraries.Libc, EntryPoint = "connect", SetLastError = true)]
    internal static unsafe partial int Connect(SafeFdHandle socket, byte* address, uint addressLength);

    [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(System.Runtime.InteropServices.SafeHandle fd, int command, int argument);

    /// <summary><c>FD_CLOEXEC</c>, the descriptor flag of F_SETFD.</summary>
    internal const int FD_CLOEXEC = 1;

    /// <summary>sys/socket.h and linux/net.h values shared by x86_64 and arm64.</summary>
    internal static class Sockets
    {
        internal const int AF_UNIX = 1;
        internal const int SOCK_STREAM = 1;
        internal const int SOCK_SEQPACKET = 5;
        internal const int SOCK_CLOEXEC = 0x80000;

        /// <summary><c>SOCK_TYPE_MASK</c> (linux/net.h): the type bits of socket()'s second argument, below its flags.</summary>
        internal const uint SOCK_TYPE_MASK = 0xf;

        /// <summary><c>sizeof(struct sockaddr_un)</c>: a 2-byte family, then a 108-byte path.</summary>
        internal const int SockaddrUnSize = 110;

        /// <summary>The length of <c>sun_path</c>.</summary>
        internal const int SunPathLength = 108;

        internal const int F_SETFD = 2;
    }
}
