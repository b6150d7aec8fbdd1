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
/// <remarks>
/// A lease is an exclusive lock (<c>flock</c>, through <see cref="FileShare.None"/>) on <c>{uid}.lock</c> in a
/// directory of root's (<see cref="DefaultDirectory"/>), held open for as long as the lease: two supervisors — in one
/// process or in two — never hold the same user ID at once, and a supervisor that dies releases its leases with its
/// descriptors. The lock files stay (one per user ID ever used); they hold nothing.
/// </remarks>
internal sealed class WorkerUserIds
{
    /// <summary>Where the lease files live: root's, as only a root supervisor hands out user IDs.</summary>
    public const string DefaultDirectory = "/run/ipcchannel/user-ids";

    private readonly Lock _lock = new();

    /// <summary>Leased user IDs: the launch that holds each, and its lock file.</summary>
    private readonly Dictionary<int, (object Holder, FileStream Lease)> _leases = new();

    private readonly Func<int, bool> _hasProcesses;
    private readonly string _directory;

    /// <summary>Creates the allocator.</summary>
    /// <param name="hasProcesses">Whether any process runs as a user ID; <see cref="AnyProcessRunsAs"/> outside tests.</param>
    /// <param name="directory">Where the lease files live; <see cref="DefaultDirectory"/> outside tests.</param>
    public WorkerUserIds(Func<int, bool>? hasProcesses = null, string? directory = null)
    {
        _hasProcesses = hasProcesses ?? AnyProcessRunsAs;
        _directory = directory ?? DefaultDirectory;
    }

    /// <summary>Leases the lowest user ID of <paramref name="range"/> that is neither leased (by any supervisor) nor in use by a process.</summary>
    /// <param name="range">The worker's range (enabled).</param>
    /// <param name="holder">What holds the lease until <see cref="Release"/>.</param>
    /// <returns>The user ID, or null when every one of the range is taken.</returns>
    /// <exception cref="IOException">The lease directory cannot be made or used.</exception>
    /// <exception cref="UnauthorizedAccessException">The lease directory cannot be made or used.</exception>
    public int? TryLease(SandboxUserIdRange range, object holder)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Per-worker users are Linux-only.");
        }

        lock (_lock)
        {
            Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            for (long candidate = range.First; candidate < (long)range.First + range.Count; candidate++)
            {
                int uid = (int)candidate;
                if (_leases.ContainsKey(uid))
                {
                    continue;
                }

                FileStream lease;
                try
                {
                    lease = new FileStream(Path.Combine(_directory, uid.ToString(CultureInfo.InvariantCulture) + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException)
                {
                    continue; // another supervisor holds it
                }

                // Checked under the lease, so no other supervisor can start a worker as it meanwhile.
                if (_hasProcesses(uid))
                {
                    lease.Dispose();
                    continue;
                }

                _leases[uid] = (holder, lease);
                return uid;
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
            if (_leases.TryGetValue(userId, out (object Holder, FileStream Lease) current) && ReferenceEquals(current.Holder, holder))
            {
                _leases.Remove(userId);
                current.Lease.Dispose();
            }
        }
    }

    /// <summary>Whether <paramref name="holder"/> holds a lease on <paramref name="userId"/>.</summary>
    public bool IsLeasedBy(int userId, object holder)
    {
        lock (_lock)
        {
            return _leases.TryGetValue(userId, out (object Holder, FileStream Lease) current) && ReferenceEquals(current.Holder, holder);
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
