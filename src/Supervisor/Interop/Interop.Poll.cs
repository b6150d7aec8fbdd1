using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor;

internal static partial class Interop
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int fd;
        public short events;
        public short revents;
    }

    internal const short POLLIN = 0x1;

    /// <summary>poll(2) on one descriptor.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(ref PollFd fds, nuint nfds, int timeoutMilliseconds);
}
