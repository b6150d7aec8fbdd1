using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    /// <summary><c>realpath(3)</c> with a null buffer: returns a path allocated with malloc (free it), or null.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint Realpath(string path, nint resolved);

    [LibraryImport(Libraries.Libc, EntryPoint = "free")]
    internal static partial void Free(nint pointer);
}
