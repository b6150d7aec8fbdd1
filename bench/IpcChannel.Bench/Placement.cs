using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;

namespace IpcChannel.Bench;

/// <summary>Where processes run, and how this program starts copies of itself.</summary>
internal static class Placement
{
    private static readonly object s_startLock = new();

    /// <summary>The CPUs this process may run on, as the kernel says (e.g. "0" or "0-1").</summary>
    public static string CpusAllowed()
    {
        try
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    public static double[] LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        catch (IOException)
        {
            return [-1, -1, -1];
        }
    }

    /// <summary>A start info that runs this program again (through its apphost, or as <c>dotnet x.dll</c>).</summary>
    public static ProcessStartInfo Self()
    {
        string processPath = Environment.ProcessPath ?? throw new InvalidOperationException("unknown process path");
        var start = new ProcessStartInfo { FileName = processPath, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        return start;
    }

    /// <summary>
    /// Starts a process restricted to <paramref name="cpu"/> (or with this thread's mask when negative): the
    /// calling thread's mask is set around the fork, which the child inherits, then restored.
    /// </summary>
    public static Process Start(ProcessStartInfo start, int cpu)
    {
        lock (s_startLock)
        {
            ulong[]? saved = null;
            if (cpu >= 0)
            {
                saved = Native.CurrentThreadMask();
                Native.PinCurrentThread(cpu);
            }

            try
            {
                return Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
            }
            finally
            {
                if (saved is not null)
                {
                    Native.SetCurrentThreadMask(saved);
                }
            }
        }
    }
}
