using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// The restart rules that need real processes to prove (the rest are on the planner, in Conformance/): a crash loop
/// under backoff gives up, a backoff never holds up another worker, a group restart revives a transient sibling, a
/// failed start fails the host, the shutdown budget, and how a worker's end is classified.
/// </summary>
public class ConformanceEndToEndTests
{
    [Fact(Timeout = 240_000)]
    public async Task CrashLoop_BackoffLongerThanThePeriod_StillGivesUp_HostExits70WithinTheBound()
    {
        var clock = Stopwatch.StartNew();
        using ParentProcess parent = ParentProcess.Start("giveup-backoff");

        int code = await parent.WaitForExitAsync(TimeSpan.FromSeconds(220));

        // The documented bound: MaxRestarts × (BackoffMax × (1 + jitter) + StartTimeout) + RestartPeriod = 2 × (27.5 + 10) + 20
        // = 95 s from the first crash; plus the host's own start, generously. (Each delay, 22.5 s or more, is longer than
        // the 20 s period: a window that counted the delays would never hold three restarts.)
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(95 + 60), $"gave up after {clock.Elapsed}");
        Assert.Equal(70, code);
        Assert.Contains(parent.Lines, l => l.Contains("gives up", StringComparison.Ordinal) && l.Contains("crasher", StringComparison.Ordinal));
        Assert.Equal(3, parent.Lines.Count(l => l.Contains("[7001]", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 150_000)]
    public async Task OneWorkersBackoff_DoesNotDelayAnothersRestart()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            b.Services.AddIpcSupervisor(o =>
            {
                o.BackoffInitial = TimeSpan.FromMinutes(5);
                o.BackoffMax = TimeSpan.FromMinutes(5);
                o.BackoffJitter = 0;
            });
            SupervisedHost.AddProbe(b, "slow");
            SupervisedHost.AddProbe(b, "quick");
        });
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> slow = host.Client("slow");
        ProcessWatch.Signal(slow.Status.Pid, 9);
        await host.WaitForStartAsync("slow", 2);
        ProcessWatch.Signal(slow.Status.Pid, 9);
        await host.Logs.WaitForAsync(e => e.EventId == 7002 && e.Message.Contains("slow after 300000 ms", StringComparison.Ordinal));

        ProcessWatch.Signal(host.Client("quick").Status.Pid, 9);

        await host.WaitForStartAsync("quick", 2).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(2, (await host.Client("quick").RequestAsync(new ProbeCommand("info"))).Incarnation);
        Assert.Equal(IpcWorkerState.Restarting, slow.Status.State);
    }

    [Fact(Timeout = 150_000)]
    public async Task OneForAll_TransientSiblingThatEndedNormally_RevivedWhenTheGroupRestarts()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            b.Services.AddIpcSupervisor(o => o.Strategy = IpcRestartStrategy.OneForAll);
            SupervisedHost.AddProbe(b, "done", o => o.Restart = IpcRestartType.Transient);
            SupervisedHost.AddProbe(b, "crashing");
        });
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> done = host.Client("done");
        await done.RequestAsync(new ProbeCommand("finish"));
        Assert.Contains("restart: False", (await host.WaitForExitAsync("done", 1)).Message);

        ProcessWatch.Signal(host.Client("crashing").Status.Pid, 9);

        await host.WaitForStartAsync("done", 2);
        Assert.Equal(2, (await done.RequestAsync(new ProbeCommand("info"))).Incarnation);
        Assert.Equal(IpcWorkerState.Running, done.Status.State);
    }

    [Fact(Timeout = 150_000)]
    public async Task WorkerFailingToStart_FailsTheHostsStart_StartedOnesStoppedInReverseOrder()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            b.Services.AddIpcSupervisor(o => o.FailHostOnStartFailure = true);   // the default, which SupervisedHost turns off
            SupervisedHost.AddProbe(b, "a");
            SupervisedHost.AddProbe(b, "b");
            SupervisedHost.AddProbe(b, "bad", o =>
            {
                o.StartTimeout = TimeSpan.FromSeconds(3);
                o.Environment["TESTHOST_MISBEHAVE"] = "silent";
            });
            SupervisedHost.AddProbe(b, "never");
        });

        var error = await Assert.ThrowsAsync<IpcWorkerException>(() => host.StartAsync());

        Assert.Equal("bad", error.WorkerName);
        Assert.Contains("did not connect back", error.Message);
        string[] stopped = host.Logs.Entries.Where(e => e.EventId == 7007).Select(e => (string)e.Scope["WorkerName"]!).ToArray();
        Assert.Equal(["b", "a"], stopped);
        foreach (string name in new[] { "a", "b" })
        {
            var pid = (int)host.Logs.Entries.Single(e => e.EventId == 7000 && Equals(e.Scope["WorkerName"], name)).Scope["WorkerPid"]!;
            Assert.True(ProcessWatch.ExitedWithin(pid, TimeSpan.FromSeconds(10)), $"worker {name} still runs");
        }

        Assert.DoesNotContain(host.Logs.Entries, e => e.EventId == 7000 && Equals(e.Scope["WorkerName"], "never"));
        Assert.Equal(IpcWorkerState.Failed, host.Client("bad").Status.State);
        Assert.Equal(IpcWorkerState.Stopped, host.Client("a").Status.State);
    }

    [Fact(Timeout = 150_000)]
    public async Task HostShutdownTimeout_DoesNotCutAWorkersGracefulStop_InfinityWaitsAsLongAsItTakes()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(100));
            SupervisedHost.AddProbe(b, "slowstop", o =>
            {
                o.StopTimeout = Timeout.InfiniteTimeSpan;
                o.Environment["TESTHOST_STOP_DELAY_MS"] = "3000";
            });
        });
        await host.StartAsync();

        var clock = Stopwatch.StartNew();
        await host.Host.StopAsync().WaitAsync(TimeSpan.FromSeconds(90));

        // The worker took its 3 s over its graceful stop, 30 times the host's ShutdownTimeout, and was let finish.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), $"stopped after {clock.Elapsed}");
        LogEntry stopped = await host.Logs.WaitForAsync(e => e.EventId == 7007);
        Assert.Contains("(graceful stop)", stopped.Message);
        Assert.Contains(host.Logs.Entries, e => e.EventId == 7030);
        Assert.DoesNotContain(host.Logs.Entries, e => e.EventId == 7014);
    }

    [Fact(Timeout = 150_000)]
    public async Task BrutalKill_ZeroStopTimeout_SigkillAtOnce_NoStopMessage()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "brutal", o => o.StopTimeout = TimeSpan.Zero));
        await host.StartAsync();

        await host.Host.StopAsync().WaitAsync(TimeSpan.FromSeconds(90));

        LogEntry stopped = await host.Logs.WaitForAsync(e => e.EventId == 7007);
        Assert.Contains("(SIGKILL)", stopped.Message);
        Assert.DoesNotContain(host.Logs.Entries, e => e.Message.Contains("Probe brutal", StringComparison.Ordinal) && e.Message.Contains("stopping.", StringComparison.Ordinal));
    }

    [Fact(Timeout = 150_000)]
    public async Task OutsideSigterm_StopsTheWorkerGracefully_Exit0_NormalForATransient()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "termed", o => o.Restart = IpcRestartType.Transient));
        await host.StartAsync();

        ProcessWatch.Signal(host.Client("termed").Status.Pid, 15);

        LogEntry ended = await host.WaitForExitAsync("termed", 1);
        Assert.Contains("exited normally", ended.Message);
        Assert.Contains("restart: False", ended.Message);
        Assert.Contains(host.Logs.Entries, e => e.Message.Contains("Probe termed", StringComparison.Ordinal) && e.Message.Contains("stopping.", StringComparison.Ordinal));
        Assert.Equal(IpcWorkerState.Stopped, host.Client("termed").Status.State);
    }

    [Fact(Timeout = 150_000)]
    public async Task TransientNormalExit_LingeringAfterItsChannelsClosed_StillNormal()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "lingering", o =>
        {
            o.Restart = IpcRestartType.Transient;
            o.Environment["TESTHOST_LINGER_MS"] = "2500";
        }));
        await host.StartAsync();

        await host.Client("lingering").RequestAsync(new ProbeCommand("finish"));

        LogEntry ended = await host.WaitForExitAsync("lingering", 1);
        Assert.Contains("exited normally", ended.Message);
        Assert.Contains("restart: False", ended.Message);
        Assert.DoesNotContain(host.Logs.Entries, e => e.EventId == 7005);
    }
}
