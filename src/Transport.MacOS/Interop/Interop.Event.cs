using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;sys/event.h&gt;</c> (kqueue).</summary>
internal static partial class Interop
{
    [LibraryImport(Libraries.System, EntryPoint = "kqueue", SetLastError = true)]
    internal static partial int Kqueue();

    [LibraryImport(Libraries.System, EntryPoint = "kevent64", SetLastError = true)]
    internal static unsafe partial int Kevent64(
        SafeFdHandle kq, kevent64_s* changeList, int changeCount, kevent64_s* eventList, int eventCount, uint flags, void* timeout);

    /// <summary><c>struct kevent64_s</c> (48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct kevent64_s
    {
        public ulong ident;
        public short filter;
        public ushort flags;
        public uint fflags;
        public long data;
        public ulong udata;
        public fixed ulong ext[2];
    }

    /// <summary><c>EVFILT_MACHPORT</c>: a message is queued on a receive right or port set.</summary>
    internal const short EVFILT_MACHPORT = -8;

    internal const ushort EV_ADD = 0x0001;
    internal const ushort EV_DELETE = 0x0002;
    internal const ushort EV_ENABLE = 0x0004;
    internal const ushort EV_DISABLE = 0x0008;
    internal const ushort EV_ONESHOT = 0x0010;
    internal const ushort EV_CLEAR = 0x0020;
    internal const ushort EV_RECEIPT = 0x0040;
    internal const ushort EV_ERROR = 0x4000;
    internal const ushort EV_EOF = 0x8000;
}
