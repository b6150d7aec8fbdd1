using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using IpcChannel.Supervisor.Sandbox;

namespace IpcChannel.Supervisor.Parent;

/// <summary>
/// Hands out host user IDs from each worker's <see cref="SandboxUserIdRange"/>, one per live worker: a user ID is
/// leased from the launch's plan until the worker has exited, and is only handed out while no process on the machine
/// runs as it (not the previous holder's leftovers, nor a worker of another supervisor using the same range).
/// </summary>
internal sealed class WorkerUserIds
{
    private readonly Lock _lock = new();

    /// <summary>Leased user IDs and the launch that holds each.</summary>
    private readonly Dictionary<int, object> _leases = new();

    private readonly Func<int, bool> _hasProcesses;

    /// <summary>Creates the allocator.</summary>
    /// <param name="hasProcesses">Whether any process runs as a user ID; <see cref="AnyProcessRunsAs"/> outside tests.</param>
    public WorkerUserIds(Func<int, bool>? hasProcesses = null) => _hasProcesses = hasProcesses ?? AnyProcessRunsAs;

    /// <summary>Leases the lowest user ID of <paramref name="range"/> that is neither leased nor in use by a process.</summary>
    /// <param name="range">The worker's range (enabled).</param>
    /// <param name="holder">What holds the lease until <see cref="Release"/>.</param>
    /// <returns>The user ID, or null when every one of the range is taken.</returns>
    public int? TryLease(SandboxUserIdRange range, object holder)
    {
        lock (_lock)
        {
            for (long candidate = range.First; candidate < (long)range.First + range.Count; candidate++)
            {
                int uid = (int)candidate;
                if (!_leases.ContainsKey(uid) && !_hasProcesses(uid))
                {
                    _leases[uid] = holder;
                    return uid;
                }
            }

            return null;
        }
    }

    /// <summary>Hands the lease of <paramref name="holder"/> on <paramref name="userId"/> back; a lease it does not hold is left alone.</summary>
    /// <param name="userId">The leased user ID.</param>
    /// <param name="holder">The holder given to <see cref="TryLease"/>.</param>
    public void Release(int userId, object holder)
    {
        lock (_lock)
        {
            if (_leases.TryGetValue(userId, out object? current) && ReferenceEquals(current, holder))
            {
                _leases.Remove(userId);
            }
        }
    }

    /// <summary>Whether <paramref name="holder"/> holds a lease on <paramref name="userId"/>.</summary>
    public bool IsLeasedBy(int userId, object holder)
    {
        lock (_lock)
        {
            return _leases.TryGetValue(userId, out object? current) && ReferenceEquals(current, holder);
        }
    }

    /// <summary>
    /// Whether a process of this machine (as far as this PID namespace sees) has <paramref name="userId"/> as its real,
    /// effective, saved or filesystem user ID (<c>/proc/*/status</c>).
    /// </summary>
    /// <param name="userId">The host user ID.</param>
    /// <returns><see langword="true"/> when one does.</returns>
    public static bool AnyProcessRunsAs(int userId)
    {
        string wanted = userId.ToString(CultureInfo.InvariantCulture);
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            string name = Path.GetFileName(directory);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            string? uids = null;
            try
            {
                foreach (string line in File.ReadLines(Path.Combine(directory, "status")))
                {
                    if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    {
                        uids = line;
                        break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // the process ended meanwhile
            }

            if (uids is not null && Array.IndexOf(uids["Uid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), wanted) >= 0)
            {
                return true;
            }
        }

        return false;
    }
}
