namespace IpcChannel.Transport.MacOS;

internal static partial class Interop
{
    /// <summary>Library names for <see cref="System.Runtime.InteropServices.LibraryImportAttribute"/>.</summary>
    internal static class Libraries
    {
        /// <summary>libSystem: the C library, the Mach interfaces, kqueue and the bootstrap (launchd) client.</summary>
        internal const string System = "/usr/lib/libSystem.dylib";
    }
}
