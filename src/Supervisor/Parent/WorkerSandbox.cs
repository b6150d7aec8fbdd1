using System;
using System.Buffers;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using IpcChannel.Supervisor.Sandbox;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Parent;

/// <summary>
/// The supervisor's side of the worker sandbox (docs/sandbox.md): probes the machine once per host (per distinct
/// namespace/user/cgroup setting), and turns each launch spec into its sandboxed form with
/// <see cref="SandboxLauncher.Plan(SandboxOptions, SandboxLaunchSpec, string, SandboxMachine, IReadOnlyDictionary{string, string})"/>
/// at every start and restart.
/// </summary>
internal sealed partial class WorkerSandbox : IDisposable
{
    private readonly Dictionary<(SandboxNamespaces, int?, int?, string?, int, int, int), SandboxMachine> _machines = new();
    private readonly Lock _lock = new();
    private readonly ILogger _logger;

    /// <summary>Distinguishes this supervisor's worker directories from those of other supervisors (other hosts, other processes).</summary>
    private readonly string _instance = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3))}");

    /// <summary>Per worker-directory root: this supervisor's lock file, held open (flock) while it runs.</summary>
    private readonly Dictionary<string, FileStream> _rootLocks = new(StringComparer.Ordinal);

    /// <summary>The host user IDs leased to live workers.</summary>
    private readonly WorkerUserIds _userIds;

    /// <summary>Per planned launch that runs as a leased user ID: the lease's holder, until <see cref="Cleanup"/>.</summary>
    private readonly Dictionary<SandboxedLaunch, object> _leaseHolders = new(ReferenceEqualityComparer.Instance);

    /// <summary>The directory of the bootstrap server's socket, which a worker of its own user must reach.</summary>
    private string? _bootstrapDirectory;

    public WorkerSandbox(ILogger logger, WorkerUserIds? userIds = null)
    {
        _logger = logger;
        _userIds = userIds ?? new WorkerUserIds();
    }

    /// <summary>
    /// The group that workers of <paramref name="options"/> run as when each gets a user of its own (and so the group
    /// that must reach the bootstrap socket), or null when they run as the supervisor's user.
    /// </summary>
    public int? DistinctUserGroup(SandboxOptions options) =>
        Applies(options) && options.RunAsUserId is null && options.UserIdRange.IsEnabled && Machine(options).DistinctUsersWork
            ? options.UserIdRange.EffectiveGroupId
            : null;

    /// <summary>Tells where the bootstrap server's socket is, so that each start checks a worker's own user can reach it.</summary>
    /// <param name="socketPath">The bootstrap server's name (its socket's path).</param>
    public void UseBootstrap(string socketPath) => _bootstrapDirectory = Path.GetDirectoryName(socketPath);

    /// <summary>Releases this supervisor's claim on its worker-directory roots (the lock files).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach ((string root, FileStream held) in _rootLocks)
            {
                held.Dispose();
                TryDelete(() => File.Delete(LockPath(root, _instance)));
            }

            _rootLocks.Clear();
        }
    }

    /// <summary>Whether <paramref name="options"/> asks for a sandbox this OS can give.</summary>
    private static bool Applies(SandboxOptions options) => options.Enabled && OperatingSystem.IsLinux();

    /// <summary>
    /// At host start: refuses a worker whose sandbox needs a layer this machine lacks (and does not allow to be
    /// missing), before any worker is launched.
    /// </summary>
    /// <exception cref="IpcWorkerException">The worker cannot be sandboxed as configured; the message names the layer.</exception>
    public void Check(string workerName, SandboxOptions options)
    {
        if (!Applies(options))
        {
            return;
        }

        try
        {
            _ = SandboxLauncher.Plan(options, new SandboxLaunchSpec("/check", []), "check", Machine(options), new Dictionary<string, string>());
        }
        catch (Exception e) when (e is SandboxException or ArgumentException)
        {
            throw new IpcWorkerException(workerName, $"Worker '{workerName}' cannot start: {e.Message}", e);
        }
    }

    /// <summary>
    /// Plans one launch: the spec to start (prefix, reduced environment, private working directory) and the plan whose
    /// <see cref="SandboxedLaunch.Prepare"/> and <see cref="SandboxedLaunch.Cleanup"/> go around the process; null when
    /// the worker runs unsandboxed. Logs the plan's warnings (a layer allowed to be missing) at every start.
    /// </summary>
    /// <exception cref="SandboxException">A layer is missing and not allowed to be.</exception>
    /// <exception cref="ArgumentException">The sandbox options contradict each other.</exception>
    public (IpcWorkerLaunchSpec Spec, SandboxedLaunch? Plan) Plan(string workerName, int incarnation, IpcWorkerLaunchSpec spec, SandboxOptions options)
    {
        if (!options.Enabled)
        {
            Log.SandboxOff(_logger, workerName);
            return (spec, null);
        }

        if (!OperatingSystem.IsLinux())
        {
            Log.NotLinux(_logger, workerName);
            return (spec, null);
        }

        var supervisorVariables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string name, string? value) in spec.Environment)
        {
            if (value is not null)
            {
                supervisorVariables[name] = value;
            }
        }

        var inherited = new Dictionary<string, string>(StringComparer.Ordinal);
        if (spec.InheritEnvironment)
        {
            foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            {
                var name = (string)entry.Key;
                if (!spec.Environment.TryGetValue(name, out string? value) || value is not null)
                {
                    inherited[name] = (string?)entry.Value ?? "";
                }
            }
        }

        // The worker's first stage connects to the bootstrap server before it confines itself.
        var sandboxSpec = new SandboxLaunchSpec(spec.Program, spec.Arguments, supervisorVariables, spec.WorkingDirectory, spec.Prefix)
        {
            ServerVariable = IpcWorkerEnvironment.BootstrapVariable,
        };
        SandboxMachine machine = Machine(options);
        var holder = new object();
        SandboxUser user = AssignUser(sandboxSpec, options, machine, holder);
        SandboxedLaunch plan;
        try
        {
            plan = SandboxLauncher.Plan(options, sandboxSpec, WorkerId(workerName, incarnation), machine, inherited, user);
        }
        catch
        {
            if (user.UserId is int leased)
            {
                _userIds.Release(leased, holder);
            }

            throw;
        }

        if (user.UserId is not null)
        {
            lock (_lock)
            {
                _leaseHolders[plan] = holder;
            }
        }

        plan.LogWarnings(_logger, workerName);

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach ((string name, string value) in plan.Launch.Environment)
        {
            environment[name] = value;
        }

        if ((plan.Layers & SandboxLayers.Namespaces) != 0 && (options.Namespaces & SandboxNamespaces.Pid) != 0)
        {
            // The parent's pid means nothing in the worker's own PID namespace (it could even name another process
            // there): the worker then watches the parent through its channels only, which the parent alone holds.
            environment[IpcWorkerEnvironment.ParentPidVariable] = "0";
        }

        IpcWorkerLaunchSpec sandboxed = new IpcWorkerLaunchSpec(plan.Launch.Program, plan.Launch.Arguments)
            .WithEnvironment(environment, inherit: false)
            .WithWorkingDirectory(plan.Launch.WorkingDirectory)
            .WithPrefix(plan.Launch.Prefix);
        return (sandboxed, plan);
    }

    /// <summary>
    /// Creates the worker's private directory (and cgroup) right before its launch: <see cref="SandboxedLaunch.Prepare"/>,
    /// which also checks that the directory root is this user's alone, then this supervisor's claim on that root.
    /// </summary>
    /// <param name="plan">The launch's plan; null when the worker runs unsandboxed.</param>
    public void Prepare(SandboxedLaunch? plan)
    {
        if (plan is null)
        {
            return;
        }

        plan.Prepare();
        if (plan.WorkerDirectory is not null)
        {
            ClaimRoot(Path.GetDirectoryName(plan.WorkerDirectory)!);
        }
    }

    /// <summary>
    /// Removes a worker's private directory (and cgroup) after it exited, and hands its user ID back (its processes are
    /// gone: the worker's PID namespace ends with it, and a user ID is not handed out again while any process runs as
    /// it); a failure is logged, not thrown.
    /// </summary>
    public void Cleanup(string workerName, SandboxedLaunch? plan)
    {
        if (plan is null)
        {
            return;
        }

        object? holder;
        lock (_lock)
        {
            _leaseHolders.Remove(plan, out holder);
        }

        if (holder is not null && plan.UserId is int uid)
        {
            _userIds.Release(uid, holder);
        }

        try
        {
            plan.Cleanup();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.CleanupFailed(_logger, workerName, plan.WorkerDirectory, e);
        }
    }

    /// <summary>
    /// A user of the worker's own from its range (leased for <paramref name="holder"/>), or the supervisor's with the
    /// reason: the machine cannot (not root, no setpriv), the range is exhausted, or the worker's user could not
    /// reach the app, the runtime or the bootstrap socket (a checkout under a private home directory): the worker
    /// then still starts, as the supervisor's user, and the plan warns at every start.
    /// </summary>
    private SandboxUser AssignUser(SandboxLaunchSpec spec, SandboxOptions options, SandboxMachine machine, object holder)
    {
        SandboxUserIdRange range = options.UserIdRange;
        if (options.RunAsUserId is not null || !range.IsEnabled)
        {
            return SandboxUser.Shared("SandboxOptions.UserIdRange is off");
        }

        if (!machine.DistinctUsersWork)
        {
            return SandboxUser.Shared(machine.DistinctUsersProblem ?? "this machine cannot run it as another user");
        }

        string? unreachable = FindUnreachable(spec, options, range.First, range.EffectiveGroupId);
        if (unreachable is not null)
        {
            return SandboxUser.Shared($"a user of its own could not reach what it needs: {unreachable} (make the app and the .NET runtime readable, "
                + "and the directories above them searchable, by others; or set SandboxOptions.UserIdRange.Count to 0 to run workers as the supervisor's user)");
        }

        int? leased;
        try
        {
            leased = _userIds.TryLease(range, holder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return SandboxUser.Shared($"the user ID leases could not be taken: {e.Message}");
        }

        return leased is int uid
            ? SandboxUser.Distinct(uid, range.EffectiveGroupId)
            : SandboxUser.Shared($"all {range.Count} user IDs of SandboxOptions.UserIdRange (from {range.First}) are in use");
    }

    /// <summary>
    /// What a worker running as <paramref name="userId"/> could not reach: the program, the files its arguments name,
    /// the runtime, the directories above its private directory and above the bootstrap socket's.
    /// </summary>
    private string? FindUnreachable(SandboxLaunchSpec spec, SandboxOptions options, int userId, int groupId)
    {
        var checks = new List<(string Path, int Access)>();

        // Prepare makes the root 0711 when it creates it; above it, nothing is changed for the worker.
        string root = options.WorkerDirectoryRoot ?? Path.Combine(Path.GetTempPath(), "ipcchannel-sandbox");
        checks.Add((Directory.Exists(root) ? root : Path.GetDirectoryName(root) ?? "/", UserAccess.Execute));
        if (Path.IsPathFullyQualified(spec.Program))
        {
            checks.Add((spec.Program, UserAccess.Read | UserAccess.Execute));
            checks.Add((Path.GetDirectoryName(spec.Program)!, UserAccess.Read | UserAccess.Execute));
        }

        foreach (string argument in spec.Arguments)
        {
            if (Path.IsPathFullyQualified(argument) && File.Exists(argument))
            {
                checks.Add((argument, UserAccess.Read));
                checks.Add((Path.GetDirectoryName(argument)!, UserAccess.Read | UserAccess.Execute));
            }
        }

        string runtime = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
        if (Path.IsPathFullyQualified(runtime) && Directory.Exists(runtime))
        {
            checks.Add((runtime, UserAccess.Read | UserAccess.Execute));
        }

        // The app's extra paths: the private root binds them as the worker's user, which must reach them (and write
        // the read-write ones), or they would be left out of its view.
        foreach (string path in options.ReadOnlyPaths)
        {
            checks.Add((path, Directory.Exists(path) ? UserAccess.Read | UserAccess.Execute : UserAccess.Read));
        }

        foreach (string path in options.ReadWritePaths)
        {
            checks.Add((path, Directory.Exists(path) ? UserAccess.Read | UserAccess.Write | UserAccess.Execute : UserAccess.Read | UserAccess.Write));
        }

        if (_bootstrapDirectory is { } bootstrap && Path.GetDirectoryName(bootstrap) is { } above)
        {
            checks.Add((above, UserAccess.Execute)); // the bootstrap directory itself is opened to the workers' group
        }

        foreach ((string path, int access) in checks)
        {
            if (UserAccess.FindProblem(path, userId, groupId, access) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>The machine as seen with these options' namespaces, user and cgroup: probed once, then reused.</summary>
    private SandboxMachine Machine(SandboxOptions options)
    {
        var key = (options.Namespaces, options.RunAsUserId, options.RunAsGroupId, options.MemoryCgroupParent,
            options.UserIdRange.First, options.UserIdRange.Count, options.UserIdRange.EffectiveGroupId);
        lock (_lock)
        {
            if (!_machines.TryGetValue(key, out SandboxMachine? machine))
            {
                machine = SandboxMachine.Detect(options);
                _machines[key] = machine;
            }

            return machine;
        }
    }

    /// <summary>
    /// The first time this supervisor uses <paramref name="root"/> (created and checked by Prepare): takes an exclusive lock file there for as long as
    /// it runs, then removes what supervisors that died without cleaning up (SIGKILL) left behind — the directories
    /// of every instance whose lock file nobody holds any more, and, for directories from before lock files, of an
    /// instance whose process is gone. A live supervisor's lock cannot be taken, in any PID namespace sharing the
    /// directory, so its workers' directories are never touched.
    /// </summary>
    private void ClaimRoot(string root)
    {
        lock (_lock)
        {
            if (_rootLocks.ContainsKey(root))
            {
                return;
            }

            try
            {
                // SandboxedLaunch.Prepare created the root and checked that only this user can write it. The file is
                // locked (FileShare.None is an flock) under a name the sweep ignores and only then renamed to its lock
                // name: a lock file is never seen unlocked while its supervisor runs, so another supervisor's sweep
                // (in this process or another) cannot take it for a dead one's in the instant between open and flock.
                string locking = LockPath(root, _instance) + "ing";
                var stream = new FileStream(locking, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
                try
                {
                    File.Move(locking, LockPath(root, _instance), overwrite: true);
                }
                catch
                {
                    stream.Dispose();
                    TryDelete(() => File.Delete(locking));
                    throw;
                }

                _rootLocks[root] = stream;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Without the lock this supervisor only skips the sweep.
                Log.SweepFailed(_logger, root, e);
                return;
            }

            SweepStale(root);
        }
    }

    private void SweepStale(string root)
    {
        var stale = new HashSet<string>(StringComparer.Ordinal);
        var live = new HashSet<string>(StringComparer.Ordinal) { _instance };
        foreach (string lockFile in Directory.EnumerateFiles(root, "*.lock"))
        {
            string instance = Path.GetFileNameWithoutExtension(lockFile);
            if (instance == _instance)
            {
                continue;
            }

            try
            {
                using (new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    stale.Add(instance);
                }
            }
            catch (IOException)
            {
                live.Add(instance); // held: that supervisor runs
            }
            catch (UnauthorizedAccessException)
            {
                live.Add(instance);
            }
        }

        int removed = 0;
        foreach (string directory in Directory.EnumerateDirectories(root))
        {
            string name = Path.GetFileName(directory);
            string? instance = InstanceOf(name);
            if (instance is null || live.Contains(instance))
            {
                continue;
            }

            bool gone = stale.Contains(instance)
                || (!File.Exists(LockPath(root, instance)) && !Directory.Exists($"/proc/{instance[..instance.IndexOf('-', StringComparison.Ordinal)]}"));
            if (gone && TryDelete(() => Directory.Delete(directory, recursive: true)))
            {
                removed++;
            }
        }

        foreach (string instance in stale)
        {
            TryDelete(() => File.Delete(LockPath(root, instance)));
        }

        if (removed > 0)
        {
            Log.SweptStale(_logger, removed, root);
        }
    }

    private static readonly SearchValues<char> UpperHex = SearchValues.Create("0123456789ABCDEF");

    /// <summary>"{pid}-{6 hex}" of a worker directory named "{pid}-{6 hex}-{worker}-{incarnation}", or null.</summary>
    private static string? InstanceOf(string directoryName)
    {
        int first = directoryName.IndexOf('-', StringComparison.Ordinal);
        if (first <= 0 || directoryName.AsSpan(0, first).ContainsAnyExceptInRange('0', '9')
            || directoryName.Length < first + 8 || directoryName[first + 7] != '-'
            || directoryName.AsSpan(first + 1, 6).ContainsAnyExcept(UpperHex))
        {
            return null;
        }

        return directoryName[..(first + 7)];
    }

    private static string LockPath(string root, string instance) => Path.Combine(root, instance + ".lock");

    private static bool TryDelete(Action delete)
    {
        try
        {
            delete();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A directory name unique to this supervisor, worker and incarnation (a standby is an incarnation too).</summary>
    private string WorkerId(string workerName, int incarnation)
    {
        string safe = new(workerName.Take(100).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());
        return string.Create(CultureInfo.InvariantCulture, $"{_instance}-{safe}-{incarnation}");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.SandboxOff, Level = LogLevel.Debug, Message = "Worker {WorkerName} starts without the sandbox (IpcWorkerOptions.Sandbox.Enabled is false).")]
        public static partial void SandboxOff(ILogger logger, string workerName);

        [LoggerMessage(EventId = LogEvents.SandboxNotLinux, Level = LogLevel.Warning, Message = "Worker {WorkerName} starts without the sandbox: it is Linux-only (set IpcWorkerOptions.Sandbox.Enabled to false to silence this).")]
        public static partial void NotLinux(ILogger logger, string workerName);

        [LoggerMessage(EventId = LogEvents.SandboxSwept, Level = LogLevel.Information, Message = "Removed {Count} worker directories left in {Root} by supervisors that ended without cleaning up.")]
        public static partial void SweptStale(ILogger logger, int count, string root);

        [LoggerMessage(EventId = LogEvents.SandboxSweepFailed, Level = LogLevel.Debug, Message = "Could not lock the sandbox root {Root}; stale worker directories there are left alone.")]
        public static partial void SweepFailed(ILogger logger, string root, Exception exception);

        [LoggerMessage(EventId = LogEvents.SandboxCleanupFailed, Level = LogLevel.Warning, Message = "Worker {WorkerName}: its sandbox directory {Directory} could not be removed.")]
        public static partial void CleanupFailed(ILogger logger, string workerName, string? directory, Exception exception);
    }
}
