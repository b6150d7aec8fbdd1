using System;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Sandbox;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// Native memory counts against the worker's total cap (RLIMIT_DATA, <see cref="SandboxOptions.MaxDataBytes"/>): past
/// it the worker dies alone and is restarted. The twin lifts only that cap, with the GC heap capped as tightly.
/// </summary>
public sealed class TotalMemoryTests
{
    [Theory(Timeout = 180_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task NativeAllocationPastTheDataCap_KillsTheWorker_WhichIsRestartedAndServes(bool capped)
    {
        await using SupervisedHost host = SupervisedHost.Create(b => b.AddIpcWorker<SandboxProbeWorker>("sandbox-native", o =>
        {
            SupervisedHost.UseTestLaunch(o, TestPaths.Apphost);
            o.RequestTimeout = TimeSpan.FromSeconds(60);
            o.Sandbox.MaxGcHeapBytes = 128L << 20;
            o.Sandbox.MaxDataBytes = capped ? 384L << 20 : null;
        }));
        await host.StartAsync();
        IpcWorkerClient<SandboxProbe, SandboxReport> client = host.Host.Services.GetRequiredKeyedService<IpcWorkerClient<SandboxProbe, SandboxReport>>("sandbox-native");

        if (capped)
        {
            await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => client.RequestAsync(new SandboxProbe("native-alloc", Number: 1024)));
            LogEntry ended = await host.WaitForExitAsync("sandbox-native", 1);
            Assert.Contains("restart: True", ended.Message, StringComparison.Ordinal);
            await host.WaitForStartAsync("sandbox-native", 2);
            Assert.True((await client.RequestAsync(new SandboxProbe("status"))).PoolAllowed);
            Assert.Equal(1, client.Status.Restarts);
        }
        else
        {
            SandboxReport report = await client.RequestAsync(new SandboxProbe("native-alloc", Number: 1024));
            Assert.Equal("allocated 1024 MiB natively", report.PoolDetail);
            Assert.Equal(1, client.Status.Incarnation);
            Assert.Equal(0, client.Status.Restarts);
        }
    }
}
