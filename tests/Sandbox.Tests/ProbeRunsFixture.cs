using System;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// Runs every probe once in a worker under the strict default sandbox and once in a worker with the sandbox off;
/// each test of <see cref="DenialTests"/> then asserts one probe, on every thread kind.
/// </summary>
public sealed class ProbeRunsFixture : IAsyncLifetime
{
    public ProbeTargets Targets { get; } = new();

    public WorkerRun Sandboxed { get; private set; } = null!;

    public WorkerRun SandboxOff { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Task<WorkerRun> sandboxed = SandboxedWorker.RunAsync(SandboxedWorker.Strict(), "probes", Targets.AllProbes());
        Task<WorkerRun> off = SandboxedWorker.RunAsync(SandboxedWorker.Off(), "probes", Targets.AllProbes());
        Sandboxed = await sandboxed.WaitAsync(TimeSpan.FromSeconds(90));
        SandboxOff = await off.WaitAsync(TimeSpan.FromSeconds(90));
    }

    public Task DisposeAsync()
    {
        Targets.Dispose();
        return Task.CompletedTask;
    }
}
