using System;
using System.IO;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>Waits for other processes' exits through pidfds (poll, no sleeping).</summary>
public static class ProcessWatch
{
    /// <summary>Whether <paramref name="pid"/> exited within <paramref name="timeout"/> (true when already gone).</summary>
    public static bool ExitedWithin(int pid, TimeSpan timeout)
    {
        using SafePidFdHandle? pidfd = SafePidFdHandle.Open(pid, out _);
        return pidfd is null || pidfd.WaitForExit((int)timeout.TotalMilliseconds) || IsZombieOrGone(pid);
    }

    /// <summary>A zombie has exited; only its parent's reaping is left.</summary>
    public static bool IsZombieOrGone(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    public static void Signal(int pid, int signal)
    {
        using SafePidFdHandle? pidfd = SafePidFdHandle.Open(pid, out _);
        pidfd?.TrySignal(signal);
    }

    public static string Environ(int pid) => File.ReadAllText($"/proc/{pid}/environ").Replace('\0', '\n');
}
