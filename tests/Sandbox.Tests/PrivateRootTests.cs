using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// The worker's world is built from nothing, and it never connects: pathname sockets of the host (in the temp
/// directory and in a runtime directory like <c>$XDG_RUNTIME_DIR</c>), the test process's own .NET diagnostics socket,
/// and a marker file in the host's temp directory, tried from a real worker on every thread kind. Each defence is shown
/// alone (private root without seccomp: <c>ENOENT</c>; seccomp without private root: <c>EPERM</c>) and with both off,
/// where the attack succeeds although Landlock, the read-only mount view and the clean start are still on.
/// </summary>
public sealed class PrivateRootTests(PrivateRootRunsFixture runs) : IClassFixture<PrivateRootRunsFixture>
{
    private const string Enoent = "errno=2";
    private const string Eperm = "errno=1";

    [Fact(Timeout = 120_000)]
    public Task HostSocketsDiagnosticsAndTmp_DefaultSandbox_AreAllOutOfReach()
    {
        WorkerRun run = runs.Default;
        foreach (string probe in new[] { "unix-connect-tmp", "unix-connect-runtime", "unix-sendto", "diagnostics", "see-tmp-marker", "see-runtime-dir" })
        {
            run.AssertEverywhere(probe, o => o.StartsWith("denied", StringComparison.Ordinal), "denied");
        }

        return Task.CompletedTask;
    }

    [Fact(Timeout = 120_000)]
    public Task PrivateRootAlone_HostPathsDoNotExist()
    {
        WorkerRun run = runs.PrivateRootAlone;
        run.AssertEverywhere("unix-connect-tmp", o => o == $"denied connect {Enoent}", "connect ENOENT");
        run.AssertEverywhere("unix-connect-runtime", o => o == $"denied connect {Enoent}", "connect ENOENT");
        run.AssertEverywhere("unix-sendto", o => o == $"denied sendto {Enoent}", "sendto ENOENT");
        run.AssertEverywhere("diagnostics", o => o == $"denied connect {Enoent}", "connect ENOENT");
        run.AssertEverywhere("see-tmp-marker", o => o == "denied (not visible)", "no host /tmp");
        run.AssertEverywhere("see-runtime-dir", o => o == "denied (not visible)", "no host /run");

        return Task.CompletedTask;
    }

    [Fact(Timeout = 120_000)]
    public Task SeccompAlone_ConnectAndDatagramSocketsAreRefused_ButTheHostTreeIsVisible()
    {
        WorkerRun run = runs.SeccompAlone;
        run.AssertEverywhere("unix-connect-tmp", o => o == $"denied connect {Eperm}", "connect EPERM");
        run.AssertEverywhere("unix-connect-runtime", o => o == $"denied connect {Eperm}", "connect EPERM");
        run.AssertEverywhere("unix-sendto", o => o == $"denied socket {Eperm}", "socket(AF_UNIX, SOCK_DGRAM) EPERM");
        run.AssertEverywhere("diagnostics", o => o == $"denied connect {Eperm}", "connect EPERM");
        run.AssertEverywhere("see-tmp-marker", o => o == "allowed", "the host's /tmp is visible without the private root");
        run.AssertEverywhere("see-runtime-dir", o => o == "allowed", "the host's runtime directory is visible without the private root");

        return Task.CompletedTask;
    }

    [Fact(Timeout = 120_000)]
    public Task AllowUnixConnect_WithoutPrivateRoot_ReachesTheHostsSocketsAndDiagnostics()
    {
        WorkerRun run = runs.UnixConnectAllowed;
        run.AssertEverywhere("unix-connect-tmp", o => o == "allowed", "allowed");
        run.AssertEverywhere("unix-connect-runtime", o => o == "allowed", "allowed");
        run.AssertEverywhere("diagnostics", o => o == "allowed", "the test process answers");

        // Datagram sockets stay refused: AllowUnixConnect is about connect only.
        run.AssertEverywhere("unix-sendto", o => o == $"denied socket {Eperm}", "socket(AF_UNIX, SOCK_DGRAM) EPERM");

        return Task.CompletedTask;
    }

    [Fact(Timeout = 120_000)]
    public Task PrivateRootAndSeccompOff_TheAttackSucceeds()
    {
        WorkerRun run = runs.BothOff;
        foreach (string probe in new[] { "unix-connect-tmp", "unix-connect-runtime", "unix-sendto", "diagnostics", "see-tmp-marker", "see-runtime-dir" })
        {
            run.AssertEverywhere(probe, o => o == "allowed", "allowed");
        }

        return Task.CompletedTask;
    }

    [Fact(Timeout = 120_000)]
    public async Task WritingPastMaxDiskBytes_PrivateRoot_FailsWithEnospc()
    {
        WorkerRun run = await SandboxedWorker.RunAsync(SandboxedWorker.Strict(o => o.MaxDiskBytes = 32L << 20), "disk", ["64"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        string disk = Assert.Single(run.Lines("DISK"));
        Assert.Matches(@"^written=(3[0-2]|[12]?\d) error=IOException HResult=28: ", disk);
    }

    [Fact(Timeout = 120_000)]
    public async Task WritingPastMaxDiskBytes_PrivateRootOff_Succeeds()
    {
        WorkerRun run = await SandboxedWorker.RunAsync(
            SandboxedWorker.Strict(o =>
            {
                o.MaxDiskBytes = 32L << 20;
                o.Layers &= ~SandboxLayers.PrivateRoot;
            }),
            "disk",
            ["64"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("written=64 error=none", Assert.Single(run.Lines("DISK")));
    }
}
