using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

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

    /// <summary>Every open descriptor with what it refers to.</summary>
    public static Dictionary<int, string> Snapshot()
    {
        var result = new Dictionary<int, string>();
        foreach (int fd in Fds())
        {
            string target;
            try
            {
                target = ProcFs.FdTarget(fd);
            }
            catch (IOException)
            {
                target = "(closed while listing)";
            }

            result[fd] = target;
        }

        return result;
    }
}

/// <summary>
/// Compares /proc/self/fd (and IpcChannel memfd mappings) before and after a piece of a test. Only meaningful in
/// <see cref="SerialCollection"/>, where no other test opens descriptors at the same time.
/// </summary>
public sealed class FdLeakCheck
{
    private readonly Dictionary<int, string> _before;
    private readonly int _mappingsBefore;

    private FdLeakCheck(Dictionary<int, string> before, int mappingsBefore)
    {
        _before = before;
        _mappingsBefore = mappingsBefore;
    }

    /// <summary>Flushes other tests' garbage (finalizers close what they forgot) and takes the "before" picture.</summary>
    public static FdLeakCheck Start()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return new FdLeakCheck(FdCounter.Snapshot(), ProcFs.IpcMemfdMappings());
    }

    /// <summary>
    /// Asserts that every descriptor open now was open before (same number, same target) and that no IpcChannel
    /// memfd mapping was added. No garbage collection runs first: a descriptor that only a finalizer would close
    /// is a leak. A short bounded wait absorbs descriptors that other threads are closing right now.
    /// </summary>
    public void AssertNoLeak()
    {
        List<string> leaked = [];
        int mappings = 0;
        bool clean = SpinWait.SpinUntil(
            () =>
            {
                leaked = New();
                mappings = ProcFs.IpcMemfdMappings();
                return leaked.Count == 0 && mappings <= _mappingsBefore;
            },
            TimeSpan.FromSeconds(2));
        Xunit.Assert.True(
            clean,
            $"leaked {leaked.Count} descriptor(s): [{string.Join(", ", leaked)}]; IpcChannel memfd mappings {_mappingsBefore} -> {mappings}");
    }

    private static bool IsRuntimeFile(string target) =>
        target.StartsWith('/')
        && !target.Contains("memfd:", StringComparison.Ordinal)
        && (target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal) || target.EndsWith(".so", StringComparison.Ordinal));

    private List<string> New()
    {
        var leaked = new List<string>();
        foreach ((int fd, string target) in FdCounter.Snapshot())
        {
            if (IsRuntimeFile(target))
            {
                // The runtime opens assemblies and symbol files lazily (a first exception's stack trace, a
                // type first used): not ours, and not something a transport could leak.
                continue;
            }

            if (!_before.TryGetValue(fd, out string? old) || old != target)
            {
                leaked.Add($"{fd} -> {target}");
            }
        }

        return leaked;
    }
}
