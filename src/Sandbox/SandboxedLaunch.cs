using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// The result of <see cref="SandboxLauncher.Plan(SandboxOptions, SandboxLaunchSpec, string, SandboxMachine, IReadOnlyDictionary{string, string})"/>:
/// the launch spec to start, and the worker's private directory (and cgroup) to create before and remove after.
/// </summary>
public sealed class SandboxedLaunch
{
    private readonly int? _userId;
    private readonly int? _groupId;
    private readonly long? _cgroupMemoryMax;

    internal SandboxedLaunch(
        SandboxLaunchSpec launch,
        string? workerDirectory,
        string? cgroupDirectory,
        SandboxLayers layers,
        SandboxLayers missingLayers,
        int? userId,
        int? groupId,
        long? cgroupMemoryMax,
        IReadOnlyList<string> warnings)
    {
        Launch = launch;
        WorkerDirectory = workerDirectory;
        CgroupDirectory = cgroupDirectory;
        Layers = layers;
        MissingLayers = missingLayers;
        _userId = userId;
        _groupId = groupId;
        _cgroupMemoryMax = cgroupMemoryMax;
        Warnings = warnings;
    }

    /// <summary>What to start: prefix, program, arguments, the complete environment (start with exactly these variables), working directory.</summary>
    public SandboxLaunchSpec Launch { get; }

    /// <summary>The host user ID the worker runs as (its own, or <see cref="SandboxOptions.RunAsUserId"/>), or null when it runs as the launcher's.</summary>
    public int? UserId => _userId;

    /// <summary>The host group ID that goes with <see cref="UserId"/>, or null.</summary>
    public int? GroupId => _groupId;

    /// <summary>The worker's private directory, or null when the sandbox is off.</summary>
    public string? WorkerDirectory { get; }

    /// <summary>The worker's cgroup v2 directory, or null without <see cref="SandboxLayers.MemoryCgroup"/>.</summary>
    public string? CgroupDirectory { get; }

    /// <summary>The layers the worker will be started under.</summary>
    public SandboxLayers Layers { get; }

    /// <summary>Layers that were asked for but this machine lacks, skipped because <see cref="SandboxOptions.AllowMissing"/> allows it.</summary>
    public SandboxLayers MissingLayers { get; }

    /// <summary>Warnings to log at this start (a missing layer, or the sandbox turned off).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// Creates a fresh, empty worker directory (mode 0700, owned by the worker's user) under a root of mode 0711, and
    /// the worker's cgroup with its <c>memory.max</c>. Call it right before starting the worker.
    /// </summary>
    /// <exception cref="IOException">The directory could not be created.</exception>
    /// <exception cref="SandboxException">The root is not a private directory of this user, or the directory could not be given to the worker's user.</exception>
    /// <exception cref="PlatformNotSupportedException">The OS is not Linux.</exception>
    public void Prepare()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The IpcChannel worker sandbox is Linux-only.");
        }

        if (WorkerDirectory is not null)
        {
            string root = Path.GetDirectoryName(WorkerDirectory)!;
            Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            CheckOwnedByUs(root);
            if (Directory.Exists(WorkerDirectory))
            {
                Directory.Delete(WorkerDirectory, recursive: true);
            }

            Directory.CreateDirectory(WorkerDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (_userId is int uid && _groupId is int gid && Interop.Chown(WorkerDirectory, (uint)uid, (uint)gid) != 0)
            {
                throw Errors.Last(SandboxLayers.CleanStart, $"chown({WorkerDirectory}, {uid}, {gid})");
            }
        }

        if (CgroupDirectory is not null && _cgroupMemoryMax is long max)
        {
            MemoryCgroup.Create(CgroupDirectory, max);
        }
    }

    /// <summary>
    /// Refuses a root that is a symbolic link, is not ours, or that others may write: whoever controls it could swap a
    /// worker's directory for a link to anywhere (the default root lives in the shared temp directory).
    /// </summary>
    private static unsafe void CheckOwnedByUs(string root)
    {
        Interop.Stat.StatxBuffer info;
        if (Interop.Statx(Interop.AT_FDCWD, root, Interop.Stat.AT_SYMLINK_NOFOLLOW, Interop.Stat.STATX_TYPE | Interop.Stat.STATX_MODE | Interop.Stat.STATX_UID, &info) != 0)
        {
            throw Errors.Last(SandboxLayers.CleanStart, $"statx({root})");
        }

        bool directory = (info.stx_mode & Interop.Stat.S_IFMT) == Interop.Stat.S_IFDIR;
        bool writableByOthers = (info.stx_mode & 0x12) != 0; // S_IWGRP | S_IWOTH
        if (!directory || info.stx_uid != Interop.GetEUid() || writableByOthers)
        {
            throw new SandboxException(
                SandboxLayers.CleanStart,
                $"Sandbox: the worker directory root {root} must be a directory owned by this user (uid {Interop.GetEUid()}) that only it can write; "
                + $"it is {(directory ? "a directory" : "not a directory")} of uid {info.stx_uid}, mode {Convert.ToString(info.stx_mode & 0xFFF, 8)}. "
                + "Set SandboxOptions.WorkerDirectoryRoot to a private directory.");
        }
    }

    /// <summary>Removes the worker directory and cgroup. Call it after the worker has exited.</summary>
    /// <exception cref="IOException">The directory could not be removed.</exception>
    public void Cleanup()
    {
        if (WorkerDirectory is not null && Directory.Exists(WorkerDirectory))
        {
            Directory.Delete(WorkerDirectory, recursive: true);
        }

        if (CgroupDirectory is not null && Directory.Exists(CgroupDirectory))
        {
            Directory.Delete(CgroupDirectory);
        }
    }

    /// <summary>Logs <see cref="Warnings"/>, one warning each; call it at every start.</summary>
    /// <param name="logger">The supervisor's logger.</param>
    /// <param name="workerName">The worker's name, for the log.</param>
    public void LogWarnings(ILogger logger, string workerName)
    {
        ArgumentNullException.ThrowIfNull(logger);
        foreach (string warning in Warnings)
        {
            Log.SandboxWarning(logger, workerName, MissingLayers, warning);
        }
    }
}
