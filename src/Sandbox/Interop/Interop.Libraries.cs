namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary>Library names for <see cref="System.Runtime.InteropServices.LibraryImportAttribute"/>.</summary>
    internal static class Libraries
    {
        /// <summary>The C library (glibc or musl); resolved by the runtime's probing.</summary>
        internal const string Libc = "libc";
    }
}
