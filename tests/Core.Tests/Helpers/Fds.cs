using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using IpcChannel.Tests.Support;

namespace IpcChannel.Core.Tests.Helpers;

/// <summary>Descriptor snapshots of this process, for leak assertions (use inside <see cref="FdSensitiveCollection"/>).</summary>
public static class Fds
{
    /// <summary>Runs finalizers of earlier garbage, then takes a snapshot: the baseline a test returns to.</summary>
    public static Dictionary<int, string> Baseline()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Snapshot();
    }

    /// <summary>
    /// The open descriptors of the kinds IpcChannel creates (sockets, memfds, epoll instances, pipes) and their
    /// targets ("socket:[123]", "/memfd:ipc-channel (deleted)", ...). Regular files are left out: the runtime
    /// opens assemblies and symbol files lazily (for example on a first exception's stack trace).
    /// </summary>
    public static Dictionary<int, string> Snapshot()
    {
        var result = new Dictionary<int, string>();
        foreach (int fd in FdCounter.Fds())
        {
            try
            {
                // Null when the descriptor closed between listing and reading (the listing's own directory).
                if (new FileInfo($"/proc/self/fd/{fd}").LinkTarget is string target && IsIpcKind(target))
                {
                    result[fd] = target;
                }
            }
            catch (IOException)
            {
                // Closed between listing and reading.
            }
        }

        return result;
    }

    private static bool IsIpcKind(string target) =>
        target.StartsWith("socket:", StringComparison.Ordinal)
        || target.StartsWith("anon_inode:", StringComparison.Ordinal)
        || target.StartsWith("pipe:", StringComparison.Ordinal)
        || target.Contains("memfd:", StringComparison.Ordinal);

    /// <summary>Asserts no descriptor is open now that was not open at <paramref name="baseline"/> (no GC first: disposal must close them).</summary>
    public static void AssertNoneOpenedSince(Dictionary<int, string> baseline, string what)
    {
        Dictionary<int, string> now = Snapshot();
        List<string> opened = now.Where(kv => !baseline.TryGetValue(kv.Key, out string? target) || target != kv.Value)
            .Select(kv => $"{kv.Key} -> {kv.Value}")
            .ToList();
        if (opened.Count != 0)
        {
            throw new Xunit.Sdk.XunitException($"{what}: {opened.Count} descriptor(s) leaked: {string.Join(", ", opened)}");
        }
    }

    /// <summary>The descriptors open now that were not open (with the same target) in <paramref name="earlier"/>.</summary>
    public static Dictionary<int, string> OpenedSince(Dictionary<int, string> earlier) =>
        Snapshot().Where(kv => !earlier.TryGetValue(kv.Key, out string? target) || target != kv.Value).ToDictionary();

    /// <summary>The descriptors of <paramref name="earlier"/> that are no longer open (with the same target).</summary>
    public static Dictionary<int, string> ClosedSince(Dictionary<int, string> earlier)
    {
        Dictionary<int, string> now = Snapshot();
        return earlier.Where(kv => !now.TryGetValue(kv.Key, out string? target) || target != kv.Value).ToDictionary();
    }

    /// <summary>The number of descriptors open now whose target contains <paramref name="text"/>.</summary>
    public static int CountTargets(string text) => Snapshot().Values.Count(t => t.Contains(text, StringComparison.Ordinal));

    /// <summary>The socket inodes ("socket:[N]" targets) open now.</summary>
    public static HashSet<string> SocketTargets() => Snapshot().Values.Where(t => t.StartsWith("socket:", StringComparison.Ordinal)).ToHashSet();
}
