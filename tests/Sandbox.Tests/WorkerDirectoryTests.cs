using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>The private directory is created safely, and stage 1 refuses to act outside the namespaces it was planned for.</summary>
public sealed class WorkerDirectoryTests : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"ipcchannel-sandbox-dirs-{Guid.NewGuid():N}");

    public WorkerDirectoryTests() => Directory.CreateDirectory(_scratch);

    [Fact]
    public void Prepare_CreatesAFreshPrivateDirectory_CleanupRemovesIt()
    {
        SandboxedLaunch launch = Plan(Path.Combine(_scratch, "root"));
        launch.Prepare();
        File.WriteAllText(Path.Combine(launch.WorkerDirectory!, "left-over"), "x");
        launch.Prepare();

        Assert.Empty(Directory.GetFileSystemEntries(launch.WorkerDirectory!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(launch.WorkerDirectory!));
        launch.Cleanup();
        Assert.False(Directory.Exists(launch.WorkerDirectory));
    }

    [Fact]
    public void Prepare_RootWritableByOthers_Refuses()
    {
        string root = Path.Combine(_scratch, "shared");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, (UnixFileMode)0x1FF); // 0777
        SandboxException error = Assert.Throws<SandboxException>(() => Plan(root).Prepare());
        Assert.Contains("WorkerDirectoryRoot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_RootThatIsASymbolicLink_Refuses()
    {
        string target = Path.Combine(_scratch, "elsewhere");
        Directory.CreateDirectory(target);
        string root = Path.Combine(_scratch, "link");
        Directory.CreateSymbolicLink(root, target);
        Assert.Throws<SandboxException>(() => Plan(root).Prepare());
    }

    /// <summary>
    /// A worker given the stage-1 variables but started without the unshare prefix must not remount anything. It runs
    /// here in a throwaway mount namespace (no user namespace), so that even a broken check could not touch the host.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task FirstStage_StartedOutsideAUserNamespace_RefusesToBuildTheReadOnlyView()
    {
        var spec = new SandboxLaunchSpec(SandboxedWorker.WorkerProgram, ["noop"]);
        SandboxedLaunch planned = SandboxLauncher.Plan(SandboxedWorker.Strict(), spec, $"no-userns-{Guid.NewGuid():N}", SandboxedWorker.Machine.Value);
        planned.Prepare();
        try
        {
            SandboxLaunchSpec wrong = planned.Launch with { Prefix = [SandboxedWorker.Machine.Value.UnsharePath!, "--mount", "--propagation", "private", "--"] };
            WorkerRun run = await SandboxedWorker.StartAsync(wrong, TimeSpan.FromSeconds(60));
            Assert.NotEqual(0, run.ExitCode);
            Assert.Contains("not in a user namespace of its own", run.Error, StringComparison.Ordinal);
            Assert.Empty(run.Lines("STATUS"));
        }
        finally
        {
            planned.Cleanup();
        }
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static SandboxedLaunch Plan(string root) =>
        SandboxLauncher.Plan(
            new SandboxOptions { WorkerDirectoryRoot = root },
            new SandboxLaunchSpec("/bin/true", []),
            "w",
            SandboxedWorker.Machine.Value,
            new Dictionary<string, string>());
}
