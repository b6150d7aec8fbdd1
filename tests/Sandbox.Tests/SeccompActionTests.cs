using System;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>The seccomp deny action is EPERM by default and can be made a kill.</summary>
public sealed class SeccompActionTests
{
    private const int SIGSYS = 31;

    [Fact(Timeout = 120_000)]
    public async Task DeniedCall_WithKillProcessAction_KillsTheWorkerWithSigsys()
    {
        WorkerRun run = await SandboxedWorker.RunAsync(SandboxedWorker.Strict(o => o.SeccompDenyAction = SeccompDenyAction.KillProcess), "probes", ["tcp-bind"]);
        Assert.True(run.ExitCode == 128 + SIGSYS, run.ToString());
        Assert.Empty(run.Lines("RESULT"));
    }
}
