using System.Runtime.InteropServices;

namespace IpcChannel.Tests.Support;

/// <summary>The few libc calls tests need that the transport does not import.</summary>
internal static partial class Posix
{
    public const int SIGKILL = 9;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    /// <summary>O_CLOEXEC as printed (octal) in /proc/self/fdinfo "flags".</summary>
    public const int O_CLOEXEC = 0x80000;

    public const int EPERM = 1;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "getuid")]
    public static partial uint GetUid();

    [LibraryImport("libc", EntryPoint = "getgid")]
    public static partial uint GetGid();

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; throws on failure.</summary>
    public static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new System.InvalidOperationException($"kill({pid}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
