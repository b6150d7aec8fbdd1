using System;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

public class StrategyTests
{
    private static SupervisedHost ThreeWorkers(IpcRestartStrategy strategy) => SupervisedHost.Create(b =>
    {
        b.Services.AddIpcSupervisor(o => o.Strategy = strategy);
        SupervisedHost.AddProbe(b, "a");
        SupervisedHost.AddProbe(b, "b");
        SupervisedHost.AddProbe(b, "c");
    });

    [Fact(Timeout = 150_000)]
    public async Task OneForAll_OneCrashes_SiblingsRestartedToo()
    {
        await using SupervisedHost host = ThreeWorkers(IpcRestartStrategy.OneForAll);
        await host.StartAsync();
        int a = host.Client("a").Status.Pid, b = host.Client("b").Status.Pid, c = host.Client("c").Status.Pid;

        ProcessWatch.Signal(b, 9);
        await host.WaitForStartAsync("c", 2);

        Assert.NotEqual(a, (await host.Client("a").RequestAsync(new ProbeCommand("info"))).Pid);
        Assert.NotEqual(b, (await host.Client("b").RequestAsync(new ProbeCommand("info"))).Pid);
        Assert.NotEqual(c, (await host.Client("c").RequestAsync(new ProbeCommand("info"))).Pid);
        Assert.Equal(2, host.Client("a").Status.Incarnation);
        Assert.True(ProcessWatch.ExitedWithin(a, TimeSpan.Zero));
        Assert.True(ProcessWatch.ExitedWithin(c, TimeSpan.Zero));
    }

    [Fact(Timeout = 150_000)]
    public async Task RestForOne_MiddleCrashes_LaterOnesRestarted_EarlierUntouched()
    {
        await using SupervisedHost host = ThreeWorkers(IpcRestartStrategy.RestForOne);
        await host.StartAsync();
        int a = host.Client("a").Status.Pid, b = host.Client("b").Status.Pid, c = host.Client("c").Status.Pid;

        ProcessWatch.Signal(b, 9);
        await host.WaitForStartAsync("c", 2);

        Assert.Equal(a, (await host.Client("a").RequestAsync(new ProbeCommand("info"))).Pid);
        Assert.Equal(1, host.Client("a").Status.Incarnation);
        Assert.NotEqual(b, (await host.Client("b").RequestAsync(new ProbeCommand("info"))).Pid);
        Assert.NotEqual(c, (await host.Client("c").RequestAsync(new ProbeCommand("info"))).Pid);
        Assert.True(ProcessWatch.ExitedWithin(c, TimeSpan.Zero));
    }

    [Fact(Timeout = 150_000)]
    public async Task OneForOne_OneCrashes_OthersUntouched()
    {
        await using SupervisedHost host = ThreeWorkers(IpcRestartStrategy.OneForOne);
        await host.StartAsync();
        int a = host.Client("a").Status.Pid, c = host.Client("c").Status.Pid;

        ProcessWatch.Signal(host.Client("b").Status.Pid, 9);
        await host.WaitForStartAsync("b", 2);

        Assert.Equal(a, (await host.Client("a").RequestAsync(new ProbeCommand("info"))).Pid);
        Assert.Equal(c, (await host.Client("c").RequestAsync(new ProbeCommand("info"))).Pid);
        Assert.Equal(2, (await host.Client("b").RequestAsync(new ProbeCommand("info"))).Incarnation);
    }
}
