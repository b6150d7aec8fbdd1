using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>Reads the seccomp mode and no_new_privs flag of every thread from /proc/self/task/*/status.</summary>
internal static class ThreadAudit
{
    /// <summary>One thread's state.</summary>
    /// <param name="Tid">The thread ID.</param>
    /// <param name="Name">The thread name (<c>Name:</c>).</param>
    /// <param name="Seccomp">The <c>Seccomp:</c> mode (0 none, 1 strict, 2 filter).</param>
    /// <param name="NoNewPrivs">The <c>NoNewPrivs:</c> flag.</param>
    internal readonly record struct ThreadState(int Tid, string Name, int Seccomp, int NoNewPrivs);

    /// <summary>Reads every thread of this process. Threads that exit while being read are left out.</summary>
    /// <returns>The threads.</returns>
    public static List<ThreadState> ReadAll()
    {
        var threads = new List<ThreadState>();
        foreach (string task in Directory.GetDirectories("/proc/self/task"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(Path.Combine(task, "status"));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException || (e is IOException && !Directory.Exists(task)))
            {
                continue; // The thread exited between the listing and the read.
            }

            string name = "";
            int seccomp = -1;
            int noNewPrivs = -1;
            foreach (string line in lines)
            {
                if (line.StartsWith("Name:", StringComparison.Ordinal))
                {
                    name = line[5..].Trim();
                }
                else if (line.StartsWith("Seccomp:", StringComparison.Ordinal))
                {
                    seccomp = int.Parse(line[8..].Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("NoNewPrivs:", StringComparison.Ordinal))
                {
                    noNewPrivs = int.Parse(line[11..].Trim(), CultureInfo.InvariantCulture);
                }
            }

            threads.Add(new ThreadState(int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture), name, seccomp, noNewPrivs));
        }

        return threads;
    }

    /// <summary>Checks that every thread has the expected state.</summary>
    /// <param name="seccomp">Whether every thread must be in seccomp filter mode.</param>
    /// <param name="noNewPrivs">Whether every thread must have no_new_privs.</param>
    /// <returns>The number of threads checked.</returns>
    /// <exception cref="SandboxException">A thread is not restricted.</exception>
    public static int Verify(bool seccomp, bool noNewPrivs)
    {
        List<ThreadState> threads = ReadAll();
        foreach (ThreadState thread in threads)
        {
            if (seccomp && thread.Seccomp != Interop.Seccomp.SECCOMP_MODE_FILTER)
            {
                throw new SandboxException(
                    SandboxLayers.Seccomp,
                    $"Sandbox layer Seccomp: thread {thread.Tid} ({thread.Name}) has Seccomp: {thread.Seccomp}, not {Interop.Seccomp.SECCOMP_MODE_FILTER}.");
            }

            if (noNewPrivs && thread.NoNewPrivs != 1)
            {
                throw new SandboxException(
                    SandboxLayers.NoNewPrivileges,
                    $"Sandbox layer NoNewPrivileges: thread {thread.Tid} ({thread.Name}) has NoNewPrivs: {thread.NoNewPrivs}.");
            }
        }

        if (threads.Count == 0)
        {
            throw new SandboxException(SandboxLayers.Seccomp, "Sandbox: /proc/self/task lists no thread; the threads cannot be verified.");
        }

        return threads.Count;
    }
}
