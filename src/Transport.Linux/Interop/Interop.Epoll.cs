using System.Runtime.InteropServices;

namespace IpcChannel.Transport.Linux;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    /// <remarks>
    /// <c>struct epoll_event</c> is packed (12 bytes) on x86_64 and naturally aligned (16 bytes) on other
    /// architectures, so events are marshalled by hand through <see cref="EpollEventSize"/>.
    /// </remarks>
    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static unsafe partial int EpollCtl(SafeFdHandle epfd, int op, SafeFdHandle fd, byte* ev);

    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static unsafe partial int EpollWait(SafeFdHandle epfd, byte* events, int maxEvents, int timeoutMilliseconds);

    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;
    internal const uint EPOLLIN = 0x1;
    internal const uint EPOLLOUT = 0x4;
    internal const uint EPOLLERR = 0x8;
    internal const uint EPOLLHUP = 0x10;
    internal const uint EPOLLRDHUP = 0x2000;
    internal const uint EPOLLONESHOT = 1u << 30;

    /// <summary>The size of <c>struct epoll_event</c> on this architecture.</summary>
    internal static readonly int EpollEventSize =
        RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Offset of <c>data</c> within <c>struct epoll_event</c>.</summary>
    internal static readonly int EpollDataOffset =
        RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    internal static unsafe void WriteEpollEvent(byte* ev, uint events, ulong data)
    {
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = data;
    }

    internal static unsafe (uint Events, ulong Data) ReadEpollEvent(byte* events, int index)
    {
        byte* ev = events + (index * EpollEventSize);
        return (*(uint*)ev, *(ulong*)(ev + EpollDataOffset));
    }
}
