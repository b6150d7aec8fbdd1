using System;
using System.Collections.Generic;
using System.Linq;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary><see cref="SandboxLauncher.Plan(SandboxOptions, SandboxLaunchSpec, string, SandboxMachine, IReadOnlyDictionary{string, string})"/> as a pure function, on machines made up for the test.</summary>
public sealed class SandboxLauncherTests
{
    private static readonly SandboxMachine s_full = new()
    {
        LandlockAbi = 7,
        SeccompWithTsync = true,
        UnsharePath = "/usr/bin/unshare",
        SetprivPath = "/usr/bin/setpriv",
        NamespacesWork = true,
    };

    private static readonly Dictionary<string, string> s_inherited = new(StringComparer.Ordinal)
    {
        ["PATH"] = "/usr/bin:/bin",
        ["LANG"] = "C.UTF-8",
        ["AWS_SECRET_ACCESS_KEY"] = "hunter2",
        ["DOTNET_gcServer"] = "1",
    };

    private static SandboxLaunchSpec Spec() => new(
        "/app/Worker",
        ["--role", "worker"],
        new Dictionary<string, string>(StringComparer.Ordinal) { ["IPCCHANNEL_BOOTSTRAP"] = "/run/x/sock" },
        "/somewhere",
        ["nice", "-n", "5"]);

    [Fact]
    public void Plan_Strict_PrefixesUnshareReducesEnvironmentAndUsesThePrivateDirectory()
    {
        var options = new SandboxOptions { WorkerDirectoryRoot = "/run/workers", MaxGcHeapBytes = 64L << 20, UserIdRange = { Count = 0 } };

        SandboxedLaunch launch = SandboxLauncher.Plan(options, Spec(), "search-1", s_full, s_inherited);

        Assert.Equal(
            ["nice", "-n", "5", "/usr/bin/unshare", "--user", "--map-root-user", "--fork", "--kill-child", "--net", "--pid", "--ipc", "--uts", "--mount", "--mount-proc", "--"],
            launch.Launch.Prefix);
        Assert.Equal("nice", launch.Launch.FileName);
        Assert.Equal(["-n", "5", "/usr/bin/unshare", "--user", "--map-root-user", "--fork", "--kill-child", "--net", "--pid", "--ipc", "--uts", "--mount", "--mount-proc", "--", "/app/Worker", "--role", "worker"], launch.Launch.FileArguments);
        Assert.Equal("/app/Worker", launch.Launch.Program);
        Assert.Equal("/run/workers/search-1", launch.WorkerDirectory);
        Assert.Equal("/run/workers/search-1", launch.Launch.WorkingDirectory);
        Assert.Equal(SandboxLayers.Default, launch.Layers);
        Assert.Empty(launch.Warnings);

        IReadOnlyDictionary<string, string> env = launch.Launch.Environment;
        Assert.Equal(
            ["DOTNET_EnableDiagnostics", "DOTNET_GCHeapHardLimit", "HOME", "IPCCHANNEL_BOOTSTRAP", "IPCCHANNEL_SANDBOX_CONFIG", "IPCCHANNEL_SANDBOX_STAGE", "LANG", "PATH", "TMPDIR"],
            env.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("4000000", env["DOTNET_GCHeapHardLimit"]); // hex: 64 MiB
        Assert.Equal("0", env["DOTNET_EnableDiagnostics"]);
        Assert.Equal("1", env["IPCCHANNEL_SANDBOX_STAGE"]);
        Assert.Equal("/run/workers/search-1", env["TMPDIR"]);

        StageConfig config = StageConfig.Decode(env["IPCCHANNEL_SANDBOX_CONFIG"]);
        Assert.Equal(SandboxLayers.Default, config.Layers);
        Assert.Equal("/run/workers/search-1", config.WorkerDirectory);
        Assert.Equal(SandboxNamespaces.All, config.Namespaces);
        Assert.Contains("IPCCHANNEL_BOOTSTRAP", config.Environment);
        Assert.DoesNotContain("AWS_SECRET_ACCESS_KEY", config.Environment);
    }

    [Fact]
    public void Plan_IsPure_SameInputsGiveTheSameLaunch()
    {
        var options = new SandboxOptions { WorkerDirectoryRoot = "/run/workers" };
        SandboxedLaunch first = SandboxLauncher.Plan(options, Spec(), "w", s_full, s_inherited);
        SandboxedLaunch second = SandboxLauncher.Plan(options, Spec(), "w", s_full, s_inherited);
        Assert.Equal(first.Launch.Prefix, second.Launch.Prefix);
        Assert.Equal(first.Launch.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal), second.Launch.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.False(System.IO.Directory.Exists("/run/workers/w"));
    }

    [Fact]
    public void Plan_SandboxOff_ReturnsTheSpecUnchangedWithAWarning()
    {
        SandboxLaunchSpec spec = Spec();
        SandboxedLaunch launch = SandboxLauncher.Plan(new SandboxOptions { Enabled = false }, spec, "w", s_full, s_inherited);
        Assert.Same(spec, launch.Launch);
        Assert.Null(launch.WorkerDirectory);
        Assert.Equal(SandboxLayers.None, launch.Layers);
        Assert.Contains(launch.Warnings, w => w.Contains("turned off", StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_MachineWithoutLandlock_RefusesNamingTheLayer()
    {
        SandboxException error = Assert.Throws<SandboxException>(() =>
            SandboxLauncher.Plan(new SandboxOptions(), Spec(), "w", s_full with { LandlockAbi = 0 }, s_inherited));
        Assert.Equal(SandboxLayers.Landlock, error.Layer);
        Assert.Contains("LandlockFilesystem", error.Message, StringComparison.Ordinal);
        Assert.Contains("AllowMissing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_OldLandlockAbi_RefusesTheMissingSubLayers()
    {
        SandboxException error = Assert.Throws<SandboxException>(() =>
            SandboxLauncher.Plan(new SandboxOptions(), Spec(), "w", s_full with { LandlockAbi = 3 }, s_inherited));
        Assert.Equal(SandboxLayers.LandlockNetwork | SandboxLayers.LandlockScopes, error.Layer);
    }

    [Fact]
    public void Plan_MachineWithoutUserNamespaces_RefusesNamingNamespaces()
    {
        SandboxException error = Assert.Throws<SandboxException>(() =>
            SandboxLauncher.Plan(new SandboxOptions(), Spec(), "w", s_full with { NamespacesWork = false, NamespacesProblem = "user namespaces are disabled" }, s_inherited));
        // The private root is built inside the worker's mount namespace: without namespaces it is missing too.
        Assert.Equal(SandboxLayers.Namespaces | SandboxLayers.PrivateRoot, error.Layer);
        Assert.Contains("user namespaces are disabled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_NamespacesAllowedMissing_StillRefusesWithoutThePrivateRoot()
    {
        var options = new SandboxOptions { AllowMissing = SandboxLayers.Namespaces };
        SandboxException error = Assert.Throws<SandboxException>(() =>
            SandboxLauncher.Plan(options, Spec(), "w", s_full with { NamespacesWork = false, NamespacesProblem = "no user namespaces" }, s_inherited));
        Assert.Equal(SandboxLayers.PrivateRoot, error.Layer);
        Assert.Contains("SandboxOptions.AllowMissing |= SandboxLayers.PrivateRoot", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Plan_PrivateRootWithoutAMountNamespace_IsMissing_RefusedUnlessAllowed(bool namespacesLayerOff)
    {
        Action<SandboxOptions> leaveOutMount = namespacesLayerOff
            ? o => o.Layers &= ~SandboxLayers.Namespaces
            : o => o.Namespaces &= ~SandboxNamespaces.Mount;
        var refused = new SandboxOptions { UserIdRange = { Count = 0 } };
        leaveOutMount(refused);
        SandboxException error = Assert.Throws<SandboxException>(() => SandboxLauncher.Plan(refused, Spec(), "w", s_full, s_inherited));
        Assert.Equal(SandboxLayers.PrivateRoot, error.Layer);
        Assert.Contains("PrivateRoot needs the Namespaces layer with SandboxNamespaces.Mount", error.Message, StringComparison.Ordinal);

        var allowed = new SandboxOptions { AllowMissing = SandboxLayers.PrivateRoot, UserIdRange = { Count = 0 } };
        leaveOutMount(allowed);
        SandboxedLaunch launch = SandboxLauncher.Plan(allowed, Spec(), "w", s_full, s_inherited);
        Assert.Equal(SandboxLayers.PrivateRoot, launch.MissingLayers);
        Assert.Equal(0, (int)(launch.Layers & SandboxLayers.PrivateRoot));
        Assert.Contains("PrivateRoot", Assert.Single(launch.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ServerVariable_MustBeOneTheSpecSets()
    {
        SandboxLaunchSpec spec = Spec() with { ServerVariable = "NOT_SET_BY_THE_SPEC" };
        ArgumentException error = Assert.Throws<ArgumentException>(() => SandboxLauncher.Plan(new SandboxOptions(), spec, "w", s_full, s_inherited));
        Assert.Contains("NOT_SET_BY_THE_SPEC", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relative/path", "must be absolute")]
    [InlineData("/", "must not be the root directory")]
    [InlineData("/usr/../etc", "must not contain '.' or '..' segments")]
    [InlineData("/usr/./lib", "must not contain '.' or '..' segments")]
    [InlineData("/nonexistent-ipcchannel-path-3f0c", "must exist")]
    public void Plan_BadExtraPaths_AreRefusedNamingTheOption(string path, string problem)
    {
        foreach (bool writable in new[] { false, true })
        {
            var options = new SandboxOptions();
            (writable ? options.ReadWritePaths : options.ReadOnlyPaths).Add(path);
            ArgumentException error = Assert.Throws<ArgumentException>(() => SandboxLauncher.Plan(options, Spec(), "w", s_full, s_inherited));
            Assert.Contains($"{(writable ? "ReadWritePaths" : "ReadOnlyPaths")} {problem}", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Plan_MachineWithoutSeccomp_RefusesNamingSeccomp()
    {
        SandboxException error = Assert.Throws<SandboxException>(() =>
            SandboxLauncher.Plan(new SandboxOptions(), Spec(), "w", s_full with { SeccompWithTsync = false }, s_inherited));
        Assert.Equal(SandboxLayers.Seccomp, error.Layer);
    }

    [Fact]
    public void Plan_MissingLayerAllowed_StartsWithoutItAndWarns()
    {
        var options = new SandboxOptions { AllowMissing = SandboxLayers.Namespaces | SandboxLayers.PrivateRoot | SandboxLayers.LandlockScopes, UserIdRange = { Count = 0 } };
        SandboxedLaunch launch = SandboxLauncher.Plan(options, Spec(), "w", s_full with { NamespacesWork = false, LandlockAbi = 5 }, s_inherited);

        Assert.Equal(SandboxLayers.Namespaces | SandboxLayers.PrivateRoot | SandboxLayers.LandlockScopes, launch.MissingLayers);
        Assert.Equal(SandboxLayers.Default & ~(SandboxLayers.Namespaces | SandboxLayers.PrivateRoot | SandboxLayers.LandlockScopes), launch.Layers);
        Assert.DoesNotContain("/usr/bin/unshare", launch.Launch.Prefix);
        string warning = Assert.Single(launch.Warnings);
        Assert.Contains("Namespaces", warning, StringComparison.Ordinal);
        Assert.Contains("LandlockScopes", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_LayerTurnedOff_IsNeitherAppliedNorMissing()
    {
        var options = new SandboxOptions { Layers = SandboxLayers.Default & ~(SandboxLayers.Namespaces | SandboxLayers.PrivateRoot), UserIdRange = { Count = 0 } };
        SandboxedLaunch launch = SandboxLauncher.Plan(options, Spec(), "w", s_full with { NamespacesWork = false }, s_inherited);
        Assert.Equal(SandboxLayers.None, launch.MissingLayers);
        Assert.Empty(launch.Warnings);
        Assert.Equal(["nice", "-n", "5"], launch.Launch.Prefix);
    }

    [Fact]
    public void Plan_RunAsUser_PutsSetprivBeforeUnshare()
    {
        var options = new SandboxOptions { RunAsUserId = 65534, RunAsGroupId = 65534 };
        SandboxedLaunch launch = SandboxLauncher.Plan(options, Spec(), "w", s_full, s_inherited);
        Assert.Equal(["nice", "-n", "5", "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "/usr/bin/unshare"], launch.Launch.Prefix.Take(9));
    }

    [Fact]
    public void Plan_AllowedVariables_AreCopiedFromTheSupervisor()
    {
        var options = new SandboxOptions();
        options.AllowedEnvironmentVariables.Add("DOTNET_gcServer");
        SandboxedLaunch launch = SandboxLauncher.Plan(options, Spec(), "w", s_full, s_inherited);
        Assert.Equal("1", launch.Launch.Environment["DOTNET_gcServer"]);
        Assert.False(launch.Launch.Environment.ContainsKey("AWS_SECRET_ACCESS_KEY"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    public void Plan_WorkerIdThatIsNotAFileName_Throws(string workerId) =>
        Assert.ThrowsAny<ArgumentException>(() => SandboxLauncher.Plan(new SandboxOptions(), Spec(), workerId, s_full, s_inherited));

    [Fact]
    public void Plan_ContradictoryOptions_ThrowArgumentExceptionListingEachProblem()
    {
        var options = new SandboxOptions
        {
            Layers = SandboxLayers.Landlock | SandboxLayers.Seccomp,
            RunAsUserId = 1000,
            MaxFileSizeBytes = 1 << 20,
            WorkerDirectoryRoot = "relative",
        };
        options.AllowedTcpConnectPorts.Add(443);

        ArgumentException error = Assert.Throws<ArgumentException>(() => SandboxLauncher.Plan(options, Spec(), "w", s_full, s_inherited));
        Assert.Contains("NoNewPrivileges", error.Message, StringComparison.Ordinal);
        Assert.Contains("RunAsGroupId", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxFileSizeBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("WorkerDirectoryRoot", error.Message, StringComparison.Ordinal);
        Assert.Contains("AllowInternetSockets", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_MemoryCgroupOnAMachineWithoutADelegatedCgroup_Refuses()
    {
        var options = new SandboxOptions { Layers = SandboxLayers.Default | SandboxLayers.MemoryCgroup, MemoryCgroupParent = "/sys/fs/cgroup/unified/workers" };
        SandboxException error = Assert.Throws<SandboxException>(() => SandboxLauncher.Plan(options, Spec(), "w", s_full, s_inherited));
        Assert.Equal(SandboxLayers.MemoryCgroup, error.Layer);

        SandboxedLaunch launch = SandboxLauncher.Plan(options, Spec(), "w", s_full with { DelegatedMemoryCgroups = ["/sys/fs/cgroup/unified/workers"] }, s_inherited);
        Assert.Equal("/sys/fs/cgroup/unified/workers/w", launch.CgroupDirectory);
        Assert.Equal("/sys/fs/cgroup/unified/workers/w", StageConfig.Decode(launch.Launch.Environment["IPCCHANNEL_SANDBOX_CONFIG"]).CgroupDirectory);
    }

    [Fact]
    public void Detect_ThisMachine_OffersEveryDefaultLayer()
    {
        // DESIGN.md's facts for this project's machines: Landlock ABI 7, seccomp TSYNC, unshare with user namespaces.
        SandboxMachine machine = Support.SandboxedWorker.Machine.Value;
        Assert.True(machine.LandlockAbi >= 6, machine.ToString());
        Assert.True(machine.SeccompWithTsync, machine.ToString());
        Assert.True(machine.NamespacesWork, machine.NamespacesProblem);
    }
}
