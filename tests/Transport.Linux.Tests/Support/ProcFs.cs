using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace IpcChannel.Tests.Support;

/// <summary>Reads process, thread and descriptor state from /proc.</summary>
public static class ProcFs
{
    /// <summary>The one-letter state of a process ('S', 'R', 'T' for stopped, 'Z', ...).</summary>
    public static char State(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }

    /// <summary>The id of the first thread of <paramref name="pid"/> whose name starts with <paramref name="name"/>, or null.</summary>
    public static int? FindThread(int pid, string name)
    {
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            string comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
            }
            catch (IOException)
            {
                continue; // the thread exited while we looked
            }

            if (comm.StartsWith(name, StringComparison.Ordinal))
            {
                return int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>The system call a thread is blocked in, or -1 while it runs.</summary>
    public static long Syscall(int pid, int tid)
    {
        string text = File.ReadAllText($"/proc/{pid}/task/{tid}/syscall").Trim();
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        string first = space < 0 ? text : text[..space];
        return long.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out long number) ? number : -1;
    }

    /// <summary>The open-file flags of one of this process's descriptors (from /proc/self/fdinfo).</summary>
    public static int FdFlags(int fd)
    {
        foreach (string line in File.ReadAllLines($"/proc/self/fdinfo/{fd}"))
        {
            if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                return Convert.ToInt32(line["flags:".Length..].Trim(), 8);
            }
        }

        throw new InvalidOperationException($"no flags line for fd {fd}");
    }

    /// <summary>The target of one of this process's descriptors ("socket:[123]", "/memfd:ipc-channel (deleted)").</summary>
    public static string FdTarget(int fd) => new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? "?";

    /// <summary>One line of /proc/self/maps.</summary>
    public readonly record struct Mapping(ulong Start, ulong End, string Permissions, long Inode, string Path);

    /// <summary>The mappings of this process.</summary>
    public static List<Mapping> Maps()
    {
        var result = new List<Mapping>();
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
        {
            string[] parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            string[] range = parts[0].Split('-');
            result.Add(new Mapping(
                ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                parts[1],
                long.Parse(parts[4], CultureInfo.InvariantCulture),
                parts.Length > 5 ? parts[5].Trim() : string.Empty));
        }

        return result;
    }

    /// <summary>The mapping that contains <paramref name="address"/>.</summary>
    public static Mapping MappingAt(nint address)
    {
        ulong a = (ulong)address;
        return Maps().Single(m => m.Start <= a && a < m.End);
    }

    /// <summary>How many mappings of IpcChannel memfds this process has.</summary>
    public static int IpcMemfdMappings() => Maps().Count(m => m.Path.Contains("memfd:ipc-channel", StringComparison.Ordinal));
}

/// <summary>System call numbers of the calls the transport blocks in (x86_64 and arm64).</summary>
public static class Syscalls
{
    private static readonly bool s_x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>recvmsg.</summary>
    public static long[] RecvMsg => s_x64 ? [47] : [212];

    /// <summary>sendmsg.</summary>
    public static long[] SendMsg => s_x64 ? [46] : [211];

    /// <summary>poll / ppoll.</summary>
    public static long[] Poll => s_x64 ? [7, 271] : [73];

    /// <summary>epoll_wait / epoll_pwait / epoll_pwait2.</summary>
    public static long[] EpollWait => s_x64 ? [232, 281, 441] : [22, 441];
}
