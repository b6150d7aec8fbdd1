using System.Runtime.InteropServices;

namespace IpcChannel.Transport.Linux;

internal static partial class Interop
{
    /// <remarks>Declared with the one pointer argument this transport passes (ioctl is variadic in C).</remarks>
    [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int Ioctl(SafeFdHandle fd, nuint request, int* argument);

    /// <summary>FIONREAD (SIOCINQ): bytes queued for reading; on SOCK_SEQPACKET, summed over every queued datagram.</summary>
    internal const nuint FIONREAD = 0x541B;
}
