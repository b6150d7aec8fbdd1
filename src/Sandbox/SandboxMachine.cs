using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// What this machine offers the sandbox: the input that makes <see cref="SandboxLauncher.Plan(SandboxOptions, SandboxLaunchSpec, string, SandboxMachine, IReadOnlyDictionary{string, string})"/>
/// a pure function. Detect it once at supervisor start with <see cref="Detect"/>; tests build one by hand.
/// </summary>
public sealed record SandboxMachine
{
    /// <summary>The Landlock ABI the kernel reports (0: no Landlock).</summary>
    public int LandlockAbi { get; init; }

    /// <summary>Whether seccomp filters with <c>SECCOMP_FILTER_FLAG_TSYNC</c> work and the filter has a table for this architecture.</summary>
    public bool SeccompWithTsync { get; init; }

    /// <summary>The path of unshare(1), or null.</summary>
    public string? UnsharePath { get; init; }

    /// <summary>The path of setpriv(1), or null.</summary>
    public string? SetprivPath { get; init; }

    /// <summary>Whether unshare(1) could make the configured namespaces (probed with the configured user).</summary>
    public bool NamespacesWork { get; init; }

    /// <summary>Why the namespaces do not work, when they do not.</summary>
    public string? NamespacesProblem { get; init; }

    /// <summary>
    /// Whether workers can run as users of their own from <see cref="SandboxOptions.UserIdRange"/>: this process is root,
    /// setpriv(1) is installed and a process of the range's first user could make the configured namespaces.
    /// </summary>
    public bool DistinctUsersWork { get; init; }

    /// <summary>Why workers cannot run as users of their own, when they cannot (or the range is off).</summary>
    public string? DistinctUsersProblem { get; init; }

    /// <summary>Delegated cgroup v2 directories whose children may get a memory limit.</summary>
    public IReadOnlyList<string> DelegatedMemoryCgroups { get; init; } = [];

    /// <summary>Probes this machine for what <paramref name="options"/> asks: Landlock ABI, seccomp TSYNC, the namespaces (by running unshare(1) once), a delegated memory cgroup.</summary>
    /// <param name="options">The options whose namespaces, user and cgroup to probe; defaults when null.</param>
    /// <returns>The machine's capabilities.</returns>
    /// <remarks>On an OS other than Linux every layer is reported missing. Takes a few milliseconds (it starts unshare once); call it once and reuse the result.</remarks>
    public static SandboxMachine Detect(SandboxOptions? options = null)
    {
        options ??= new SandboxOptions();
        if (!OperatingSystem.IsLinux())
        {
            return new SandboxMachine { NamespacesProblem = "not Linux" };
        }

        SeccompArchitecture? arch = SeccompArchitecture.Current;
        string? unshare = FindProgram("unshare");
        string? setpriv = FindProgram("setpriv");
        var machine = new SandboxMachine
        {
            LandlockAbi = LandlockRuleset.GetAbi(),
            SeccompWithTsync = arch is not null && SeccompFilter.ProbeTsync(arch),
            UnsharePath = unshare,
            SetprivPath = setpriv,
            DelegatedMemoryCgroups = options.MemoryCgroupParent is { } parent && MemoryCgroup.IsDelegated(parent) ? [parent] : [],
        };

        (int, int)? explicitUser = options.RunAsUserId is int uid && options.RunAsGroupId is int gid ? (uid, gid) : null;
        (bool works, string? problem) = ProbeNamespaces(options, machine, explicitUser);
        machine = machine with { NamespacesWork = works, NamespacesProblem = problem };
        (bool distinct, string? distinctProblem) = ProbeDistinctUsers(options, machine);
        return machine with { DistinctUsersWork = distinct, DistinctUsersProblem = distinctProblem };
    }

    /// <summary>Whether a worker can run as a user of the range: root, setpriv, and namespaces made as that user.</summary>
    private static (bool Works, string? Problem) ProbeDistinctUsers(SandboxOptions options, SandboxMachine machine)
    {
        SandboxUserIdRange range = options.UserIdRange;
        if (!range.IsEnabled)
        {
            return (false, "SandboxOptions.UserIdRange.Count is 0");
        }

        uint self = Interop.GetEUid();
        if (self != 0)
        {
            return (false, $"the supervisor is not root (uid {self}), and only root can start a process as another user");
        }

        if (machine.SetprivPath is null)
        {
            return (false, "setpriv(1) is not installed");
        }

        if ((options.Layers & SandboxLayers.Namespaces) == 0 || !machine.NamespacesWork)
        {
            return (true, null);
        }

        (bool works, string? problem) = ProbeNamespaces(options, machine, (range.First, range.EffectiveGroupId));
        return works ? (true, null) : (false, $"user {range.First} cannot make the namespaces: {problem}");
    }

    private static (bool Works, string? Problem) ProbeNamespaces(SandboxOptions options, SandboxMachine machine, (int UserId, int GroupId)? user)
    {
        if (machine.UnsharePath is null)
        {
            return (false, "unshare(1) is not installed");
        }

        if (user is not null && machine.SetprivPath is null)
        {
            return (false, "setpriv(1) is not installed (needed for RunAsUserId)");
        }

        List<string> prefix = SandboxLauncher.LauncherPrefix(options, machine, namespaces: true, user);

        var start = new ProcessStartInfo(prefix[0])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string word in prefix.Skip(1))
        {
            start.ArgumentList.Add(word);
        }

        start.ArgumentList.Add(machine.UnsharePath);
        start.ArgumentList.Add("--version");
        try
        {
            using Process process = Process.Start(start) ?? throw new InvalidOperationException("unshare did not start");
            string error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return (false, "unshare(1) did not finish within 10 s");
            }

            return process.ExitCode == 0 ? (true, null) : (false, $"{string.Join(' ', prefix)} failed: {error.Trim()}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (false, $"unshare(1) could not be started: {e.Message}");
        }
    }

    private static string? FindProgram(string name)
    {
        IEnumerable<string> directories = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/bin", "/usr/sbin", "/sbin"]);
        foreach (string directory in directories)
        {
            string candidate = Path.Combine(directory, name);
            if (Path.IsPathFullyQualified(candidate) && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
