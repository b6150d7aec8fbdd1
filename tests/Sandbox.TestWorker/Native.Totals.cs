using System.Runtime.InteropServices;

namespace IpcChannel.Sandbox.TestWorker;

/// <summary>The raw calls of the thread scenario.</summary>
internal static unsafe partial class Native
{
    private const string Pthread = "libc";

    /// <summary>Bytes reserved for a <c>pthread_attr_t</c> (56 on x86_64, 64 on arm64).</summary>
    public const int PthreadAttrSize = 64;

    [LibraryImport(Pthread, EntryPoint = "pthread_attr_init")]
    public static partial int PthreadAttrInit(void* attr);

    [LibraryImport(Pthread, EntryPoint = "pthread_attr_setstacksize")]
    public static partial int PthreadAttrSetStackSize(void* attr, nuint size);

    [LibraryImport(Pthread, EntryPoint = "pthread_attr_destroy")]
    public static partial int PthreadAttrDestroy(void* attr);

    /// <summary><c>pthread_create(3)</c>: returns the error number (it does not set errno).</summary>
    [LibraryImport(Pthread, EntryPoint = "pthread_create")]
    public static partial int PthreadCreate(nuint* thread, void* attr, nint start, nint argument);
}
