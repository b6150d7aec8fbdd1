using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Turns a worker's launch spec into its sandboxed launch spec. Pure: the result depends only on the arguments, and
/// nothing is created on disk until <see cref="SandboxedLaunch.Prepare"/>.
/// </summary>
/// <example>
/// The supervisor, once: <c>var machine = SandboxMachine.Detect(options);</c>. Then at every (re)start:
/// <code>
/// SandboxedLaunch launch = SandboxLauncher.Plan(options, spec, workerId, machine, inheritedEnvironment);
/// launch.LogWarnings(logger, workerName);
/// launch.Prepare();
/// var command = Cli.Wrap(launch.Launch.FileName)
///     .WithArguments(launch.Launch.FileArguments)
///     .WithWorkingDirectory(launch.Launch.WorkingDirectory!)
///     .WithEnvironmentVariables(env =&gt; { /* unset every inherited name, then set launch.Launch.Environment */ });
/// // ... run it; after it exits: launch.Cleanup();
/// </code>
/// </example>
public static class SandboxLauncher
{
    /// <summary>Plans a sandboxed start of a worker.</summary>
    /// <param name="options">The sandbox options.</param>
    /// <param name="spec">The worker's unsandboxed launch spec; its environment holds only the variables the supervisor sets.</param>
    /// <param name="workerId">A name for this worker instance, unique among running workers (letters, digits, '.', '-', '_'); it names the private directory.</param>
    /// <param name="machine">What the machine offers (<see cref="SandboxMachine.Detect"/>).</param>
    /// <param name="inheritedEnvironment">The supervisor's environment, from which the allowed variables are copied.</param>
    /// <returns>The transformed launch and what it needs before and after the start.</returns>
    /// <exception cref="ArgumentException">The options contradict each other or the worker ID is not a file name.</exception>
    /// <exception cref="SandboxException">A layer is missing on this machine and not allowed to be; the message names it.</exception>
    /// <remarks>
    /// The worker runs as the launcher's user (or <see cref="SandboxOptions.RunAsUserId"/>); when
    /// <see cref="SandboxOptions.UserIdRange"/> is on, the plan warns that it shares the kernel's per-user accounting.
    /// A launcher that gives each worker a user of its own calls the overload that takes a <see cref="SandboxUser"/>.
    /// </remarks>
    public static SandboxedLaunch Plan(
        SandboxOptions options,
        SandboxLaunchSpec spec,
        string workerId,
        SandboxMachine machine,
        IReadOnlyDictionary<string, string> inheritedEnvironment)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return Plan(options, spec, workerId, machine, inheritedEnvironment,
            SandboxUser.Shared(machine.DistinctUsersProblem ?? "the launcher assigned it no user of SandboxOptions.UserIdRange"));
    }

    /// <summary>Plans a sandboxed start of a worker that runs as <paramref name="user"/>.</summary>
    /// <param name="options">The sandbox options.</param>
    /// <param name="spec">The worker's unsandboxed launch spec; its environment holds only the variables the supervisor sets.</param>
    /// <param name="workerId">A name for this worker instance, unique among running workers (letters, digits, '.', '-', '_'); it names the private directory.</param>
    /// <param name="machine">What the machine offers (<see cref="SandboxMachine.Detect"/>).</param>
    /// <param name="inheritedEnvironment">The supervisor's environment, from which the allowed variables are copied.</param>
    /// <param name="user">
    /// The host user to run as: <see cref="SandboxUser.Distinct"/> (a user no other live worker has; the launch is
    /// prefixed with setpriv(1) and the private directory is given to it), or <see cref="SandboxUser.Shared"/> (the
    /// plan then warns, with the reason, while <see cref="SandboxOptions.UserIdRange"/> is on).
    /// <see cref="SandboxOptions.RunAsUserId"/>, when set, wins.
    /// </param>
    /// <returns>The transformed launch and what it needs before and after the start.</returns>
    /// <exception cref="ArgumentException">The options contradict each other or the worker ID is not a file name.</exception>
    /// <exception cref="SandboxException">A layer is missing on this machine and not allowed to be; the message names it.</exception>
    public static SandboxedLaunch Plan(
        SandboxOptions options,
        SandboxLaunchSpec spec,
        string workerId,
        SandboxMachine machine,
        IReadOnlyDictionary<string, string> inheritedEnvironment,
        SandboxUser user)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(inheritedEnvironment);
        ArgumentNullException.ThrowIfNull(user);
        List<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid sandbox options: {string.Join(" ", problems)}", nameof(options));
        }

        if (!options.Enabled)
        {
            return new SandboxedLaunch(spec, null, null, SandboxLayers.None, SandboxLayers.None, options.RunAsUserId, options.RunAsGroupId, null,
                ["The sandbox is turned off (SandboxOptions.Enabled = false): the worker runs with the supervisor's rights."]);
        }

        CheckWorkerId(workerId);
        if (spec.ServerVariable is { } serverVariable && !spec.Environment.ContainsKey(serverVariable))
        {
            throw new ArgumentException($"The launch spec's ServerVariable '{serverVariable}' is not one of the variables it sets.", nameof(spec));
        }

        (SandboxLayers missing, List<string> reasons) = Missing(options, machine);
        SandboxLayers refused = missing & ~options.AllowMissing;
        if (refused != 0)
        {
            throw new SandboxException(
                refused,
                $"Sandbox layer {LayerNames.Describe(refused)} is not available on this machine: {string.Join("; ", reasons)}. The worker is not started; "
                + $"allow running without it with SandboxOptions.AllowMissing |= SandboxLayers.{LayerNames.Describe(refused, " | SandboxLayers.")}, "
                + "or turn it off in SandboxOptions.Layers.");
        }

        var warnings = new List<string>();
        if (missing != 0)
        {
            warnings.Add($"The worker runs without sandbox layer {LayerNames.Describe(missing)}, which this machine lacks ({string.Join("; ", reasons)}), because SandboxOptions.AllowMissing allows it.");
        }

        (int UserId, int GroupId)? runAs = RunAs(options, user, warnings);

        SandboxLayers layers = options.Layers & ~missing;
        string root = options.WorkerDirectoryRoot ?? Path.Combine(Path.GetTempPath(), "ipcchannel-sandbox");
        string directory = Path.Combine(root, workerId);
        string? cgroup = (layers & SandboxLayers.MemoryCgroup) != 0 ? Path.Combine(options.MemoryCgroupParent!, workerId) : null;

        Dictionary<string, string> environment = Environment(options, spec, inheritedEnvironment, layers, directory);
        var config = new StageConfig
        {
            Layers = layers,
            AllowMissing = options.AllowMissing,
            WorkerDirectory = directory,
            ReadOnlyPaths = options.ReadOnlyPaths.ToArray(),
            ReadWritePaths = options.ReadWritePaths.ToArray(),
            TcpConnectPorts = options.AllowedTcpConnectPorts.ToArray(),
            TcpBindPorts = options.AllowedTcpBindPorts.ToArray(),
            MaxOpenFiles = options.MaxOpenFiles,
            MaxProcesses = options.MaxProcesses,
            MaxFileSizeBytes = options.MaxFileSizeBytes,
            MaxGcHeapBytes = options.MaxGcHeapBytes,
            MaxDataBytes = options.MaxDataBytes,
            InheritedFileDescriptors = options.InheritedFileDescriptors.ToArray(),
            Environment = environment.Keys.Order(StringComparer.Ordinal).ToArray(),
            SeccompDenyAction = options.SeccompDenyAction,
            AllowInternetSockets = options.AllowInternetSockets,
            AllowProcessCreation = options.AllowProcessCreation,
            Namespaces = (layers & SandboxLayers.Namespaces) != 0 ? options.Namespaces : SandboxNamespaces.None,
            CgroupDirectory = cgroup,
            MaxDiskBytes = options.MaxDiskBytes,
            ServerVariable = spec.ServerVariable,
            AllowUnixConnect = options.AllowUnixConnect,
        };
        environment[StageProtocol.StageVariable] = StageProtocol.FirstStage;
        environment[StageProtocol.ConfigVariable] = config.Encode();

        var prefix = spec.Prefix.ToList();
        prefix.AddRange(LauncherPrefix(options, machine, (layers & SandboxLayers.Namespaces) != 0, runAs));
        var launch = new SandboxLaunchSpec(
            spec.Program,
            spec.Arguments,
            environment,
            directory,
            prefix);

        long? cgroupMax = cgroup is null ? null : options.MaxMemoryBytes ?? (options.MaxGcHeapBytes ?? SandboxOptions.DefaultMaxGcHeapBytes) * 2;
        return new SandboxedLaunch(launch, directory, cgroup, layers, missing, runAs?.UserId, runAs?.GroupId, cgroupMax, warnings);
    }

    /// <summary>The host user and group the worker runs as, or null for the launcher's (with a warning while the range is on).</summary>
    private static (int UserId, int GroupId)? RunAs(SandboxOptions options, SandboxUser user, List<string> warnings)
    {
        if (options.RunAsUserId is int uid && options.RunAsGroupId is int gid)
        {
            return (uid, gid);
        }

        if (user.UserId is int distinct && user.GroupId is int group)
        {
            return (distinct, group);
        }

        if (options.UserIdRange.IsEnabled)
        {
            warnings.Add($"The worker runs as the supervisor's user, shared with the supervisor and its other workers, because {user.SharedReason}. "
                + "The kernel's per-user accounting is then shared too: descriptors in flight in SCM_RIGHTS messages (a worker that queues "
                + "RLIMIT_NOFILE of them makes every other worker's descriptor passing fail with ETOOMANYREFS), RLIMIT_NPROC (which does not "
                + "bind root at all) and pending signals. See docs/sandbox.md, \"Per-worker users\".");
        }

        return null;
    }

    /// <summary>Plans a start with the supervisor's own environment as the inherited one.</summary>
    /// <param name="options">The sandbox options.</param>
    /// <param name="spec">The worker's unsandboxed launch spec.</param>
    /// <param name="workerId">A name for this worker instance.</param>
    /// <param name="machine">What the machine offers.</param>
    /// <returns>The transformed launch.</returns>
    /// <exception cref="ArgumentException">The options contradict each other or the worker ID is not a file name.</exception>
    /// <exception cref="SandboxException">A layer is missing on this machine and not allowed to be.</exception>
    public static SandboxedLaunch Plan(SandboxOptions options, SandboxLaunchSpec spec, string workerId, SandboxMachine machine)
    {
        var inherited = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            inherited[(string)entry.Key] = (string?)entry.Value ?? "";
        }

        return Plan(options, spec, workerId, machine, inherited);
    }

    /// <summary>The launcher words: setpriv(1) for the worker's own user, then unshare(1) for the namespaces.</summary>
    /// <param name="options">The options.</param>
    /// <param name="machine">Where the programs are.</param>
    /// <param name="namespaces">Whether to add the unshare(1) part.</param>
    /// <param name="user">The host user and group to run as (<see cref="SandboxOptions.RunAsUserId"/> or one of the range), or null for the launcher's.</param>
    /// <returns>The words, possibly none.</returns>
    internal static List<string> LauncherPrefix(SandboxOptions options, SandboxMachine machine, bool namespaces, (int UserId, int GroupId)? user)
    {
        var prefix = new List<string>();
        if (options.Enabled && user is (int uid, int gid))
        {
            prefix.Add(machine.SetprivPath ?? throw new SandboxException(SandboxLayers.CleanStart, "Sandbox: running a worker as another user needs setpriv(1), which is not installed."));
            prefix.Add(string.Create(CultureInfo.InvariantCulture, $"--reuid={uid}"));
            prefix.Add(string.Create(CultureInfo.InvariantCulture, $"--regid={gid}"));
            prefix.Add("--clear-groups");
            prefix.Add("--");
        }

        if (namespaces)
        {
            // --fork: the worker is a child of unshare (PID 1 of its PID namespace); --kill-child: it dies with unshare.
            prefix.Add(machine.UnsharePath ?? throw new SandboxException(SandboxLayers.Namespaces, "Sandbox layer Namespaces needs unshare(1), which is not installed."));
            prefix.AddRange(["--user", "--map-root-user", "--fork", "--kill-child"]);
            SandboxNamespaces wanted = options.Namespaces;
            if ((wanted & SandboxNamespaces.Network) != 0)
            {
                prefix.Add("--net");
            }

            if ((wanted & SandboxNamespaces.Pid) != 0)
            {
                prefix.Add("--pid");
            }

            if ((wanted & SandboxNamespaces.Ipc) != 0)
            {
                prefix.Add("--ipc");
            }

            if ((wanted & SandboxNamespaces.Uts) != 0)
            {
                prefix.Add("--uts");
            }

            if ((wanted & SandboxNamespaces.Mount) != 0)
            {
                prefix.Add("--mount");
                if ((wanted & SandboxNamespaces.Pid) != 0)
                {
                    prefix.Add("--mount-proc");
                }
            }

            prefix.Add("--");
        }

        return prefix;
    }

    private static (SandboxLayers Missing, List<string> Reasons) Missing(SandboxOptions options, SandboxMachine machine)
    {
        SandboxLayers wanted = options.Layers;
        SandboxLayers missing = SandboxLayers.None;
        var reasons = new List<string>();
        SandboxLayers landlock = wanted & FirstStage.MissingLandlockLayers(machine.LandlockAbi);
        if (landlock != 0)
        {
            missing |= landlock;
            reasons.Add(machine.LandlockAbi == 0
                ? "the kernel has no Landlock"
                : $"Landlock ABI {machine.LandlockAbi} lacks {LayerNames.Describe(landlock)} (network needs ABI 4, scopes ABI 6)");
        }

        if ((wanted & SandboxLayers.Seccomp) != 0 && !machine.SeccompWithTsync)
        {
            missing |= SandboxLayers.Seccomp;
            reasons.Add("no seccomp filter with TSYNC for this kernel and architecture");
        }

        if ((wanted & SandboxLayers.Namespaces) != 0 && !machine.NamespacesWork)
        {
            missing |= SandboxLayers.Namespaces;
            reasons.Add($"namespaces: {machine.NamespacesProblem ?? "not probed"}");
        }

        if ((wanted & SandboxLayers.PrivateRoot) != 0 && (missing & SandboxLayers.Namespaces) == 0
            && ((wanted & SandboxLayers.Namespaces) == 0 || (options.Namespaces & SandboxNamespaces.Mount) == 0))
        {
            missing |= SandboxLayers.PrivateRoot;
            reasons.Add("PrivateRoot needs the Namespaces layer with SandboxNamespaces.Mount, which the options leave out");
        }
        else if ((wanted & SandboxLayers.PrivateRoot) != 0 && (missing & SandboxLayers.Namespaces) != 0)
        {
            missing |= SandboxLayers.PrivateRoot;
            reasons.Add("PrivateRoot is built in the worker's mount namespace, which this machine cannot make");
        }

        if ((wanted & SandboxLayers.MemoryCgroup) != 0 && !machine.DelegatedMemoryCgroups.Contains(options.MemoryCgroupParent!))
        {
            missing |= SandboxLayers.MemoryCgroup;
            reasons.Add($"{options.MemoryCgroupParent} is not a delegated cgroup v2 directory with the memory controller");
        }

        return (missing, reasons);
    }

    private static Dictionary<string, string> Environment(
        SandboxOptions options,
        SandboxLaunchSpec spec,
        IReadOnlyDictionary<string, string> inherited,
        SandboxLayers layers,
        string directory)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        bool clean = (layers & SandboxLayers.CleanStart) != 0;
        foreach ((string name, string value) in inherited)
        {
            if (!clean || options.AllowedEnvironmentVariables.Contains(name))
            {
                environment[name] = value;
            }
        }

        foreach ((string name, string value) in spec.Environment)
        {
            environment[name] = value;
        }

        // The private directory is the only writable place under Landlock and the read-only mount view, so it is the
        // worker's temp directory and home whichever layers are on.
        environment["TMPDIR"] = directory;
        environment["HOME"] = directory;

        if ((layers & SandboxLayers.ResourceLimits) != 0 && options.MaxGcHeapBytes is long heap)
        {
            environment["DOTNET_GCHeapHardLimit"] = heap.ToString("X", CultureInfo.InvariantCulture);
        }

        // No diagnostics IPC socket (in TMPDIR), debugger or profiler attach into the worker.
        environment["DOTNET_EnableDiagnostics"] = "0";
        return environment;
    }

    private static void CheckWorkerId(string workerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        if (workerId is "." or ".." || workerId.Length > 200
            || !workerId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            throw new ArgumentException($"The worker ID '{workerId}' must be 1-200 letters, digits, '.', '-' or '_' (it names a directory).", nameof(workerId));
        }
    }
}
