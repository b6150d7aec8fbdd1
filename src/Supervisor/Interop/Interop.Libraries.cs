namespace IpcChannel.Supervisor;

/// <summary>
/// The supervisor's few Linux imports: process descriptors (pidfd) to watch and signal processes without
/// pid-reuse races, and the ids of this process. The supervisor never calls a transport; channels go
/// through IpcChannel's public API.
/// </summary>
internal static partial class Interop
{
    /// <summary>Library names for <see cref="System.Runtime.InteropServices.LibraryImportAttribute"/>.</summary>
    internal static class Libraries
    {
        /// <summary>The C library; resolved by the runtime's probing.</summary>
        internal const string Libc = "libc";
    }

    /// <summary>Errno values used here (Linux, every architecture).</summary>
    internal static class Errno
    {
        internal const int EINTR = 4;
        internal const int ESRCH = 3;
    }
}
