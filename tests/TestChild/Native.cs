using System;
using System.Runtime.InteropServices;

namespace IpcChannel.TestChild;

/// <summary>libc calls some scenarios need to put the child in an unusual state.</summary>
internal static unsafe partial class Native
{
    private const int RLIMIT_NOFILE = 7;
    private const int SIGPIPE = 13;
    private const nint SIG_DFL = 0;

    /// <summary>Lowers this process's soft RLIMIT_NOFILE: descriptor numbers from <paramref name="limit"/> up are refused.</summary>
    public static void LowerFdLimit(int limit)
    {
        RLimit current;
        if (GetRLimit(RLIMIT_NOFILE, &current) != 0)
        {
            throw new InvalidOperationException($"getrlimit failed: errno {Marshal.GetLastPInvokeError()}");
        }

        current.Current = (ulong)limit;
        if (SetRLimit(RLIMIT_NOFILE, &current) != 0)
        {
            throw new InvalidOperationException($"setrlimit failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// Restores SIGPIPE's default action (terminate). The .NET runtime ignores SIGPIPE, which would hide a send
    /// without MSG_NOSIGNAL; with the default action such a send kills this process.
    /// </summary>
    public static void DefaultSigpipe()
    {
        _ = SetSignal(SIGPIPE, SIG_DFL);
        if (SetSignal(SIGPIPE, SIG_DFL) != SIG_DFL)
        {
            throw new InvalidOperationException("SIGPIPE's action could not be reset to SIG_DFL");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint SetSignal(int signal, nint handler);
}
