using System;
using System.IO;
using System.Linq;

namespace IpcChannel.Tests.Support;

/// <summary>Counts this process's open descriptors, to catch leaks.</summary>
public static class FdCounter
{
    /// <summary>The number of entries in /proc/self/fd.</summary>
    public static int Count() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>The open descriptor numbers.</summary>
    public static int[] Fds() => Directory.GetFileSystemEntries("/proc/self/fd")
        .Select(path => int.Parse(Path.GetFileName(path), System.Globalization.CultureInfo.InvariantCulture))
        .ToArray();
}
