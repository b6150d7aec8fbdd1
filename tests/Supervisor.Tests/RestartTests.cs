using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

public class RestartTests
{
    [Fact(Timeout = 120_000)]
    public async Task Crash_FailFast_RestartedAndServing_HandleUnchanged()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe"));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");
        int firstPid = client.Status.Pid;

        await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => client.RequestAsync(new ProbeCommand("failfast")));

        ProbeReply reply = await client.RequestAsync(new ProbeCommand("echo", "back"));
        Assert.Equal("back", reply.Text);
        Assert.Equal(2, reply.Incarnation);
        Assert.NotEqual(firstPid, reply.Pid);
        Assert.Same(client, host.Client("probe"));
        Assert.Equal(1, client.Status.Restarts);
        LogEntry ended = await host.WaitForExitAsync("probe", 1);
        Assert.Contains("signal", ended.Message);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Crash_SigKill_RestartedAndServing(bool leanEntry)
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe", leanEntry ? SupervisedHost.UseLeanEntry : null));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");
        int firstPid = client.Status.Pid;

        ProcessWatch.Signal(firstPid, 9);
        await host.WaitForStartAsync("probe", 2);

        ProbeReply reply = await client.RequestAsync(new ProbeCommand("echo", "back"));
        Assert.Equal("back", reply.Text);
        Assert.Equal(2, reply.Incarnation);
        Assert.NotEqual(firstPid, reply.Pid);
        Assert.True(ProcessWatch.ExitedWithin(firstPid, TimeSpan.Zero));
        Assert.Same(client, host.Client("probe"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Transient_NormalExit_NotRestarted_SendsFailClearly()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe", o => o.Restart = IpcRestartType.Transient));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        await client.RequestAsync(new ProbeCommand("finish"));
        LogEntry ended = await host.WaitForExitAsync("probe", 1);

        Assert.Contains("exited normally", ended.Message);
        Assert.Contains("restart: False", ended.Message);
        var error = await Assert.ThrowsAsync<IpcWorkerUnavailableException>(() => client.SendAsync(new ProbeCommand("echo")).AsTask());
        Assert.Equal(IpcWorkerState.Stopped, error.State);
        Assert.Equal(IpcWorkerState.Stopped, client.Status.State);
    }

    [Fact(Timeout = 120_000)]
    public async Task Transient_Crash_Restarted()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe", o => o.Restart = IpcRestartType.Transient));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        await client.SendAsync(new ProbeCommand("throw"));

        await host.WaitForStartAsync("probe", 2);
        Assert.Equal(2, (await client.RequestAsync(new ProbeCommand("info"))).Incarnation);
        Assert.Contains("exited with code 1", (await host.WaitForExitAsync("probe", 1)).Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task Permanent_NormalExit_Restarted()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe"));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        await client.RequestAsync(new ProbeCommand("finish"));

        await host.WaitForStartAsync("probe", 2);
        Assert.Contains("exited normally", (await host.WaitForExitAsync("probe", 1)).Message);
        Assert.Equal(2, (await client.RequestAsync(new ProbeCommand("info"))).Incarnation);
    }

    [Fact(Timeout = 120_000)]
    public async Task Temporary_Crash_NeverRestarted()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe", o => o.Restart = IpcRestartType.Temporary));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        ProcessWatch.Signal(client.Status.Pid, 9);

        LogEntry ended = await host.WaitForExitAsync("probe", 1);
        Assert.Contains("restart: False", ended.Message);
        await Assert.ThrowsAsync<IpcWorkerUnavailableException>(() => client.RequestAsync(new ProbeCommand("info")));
        Assert.Equal(IpcWorkerState.Stopped, client.Status.State);
        Assert.Equal(0, client.Status.Restarts);
    }

    [Fact(Timeout = 120_000)]
    public async Task HungWorker_DetectedByHeartbeat_KilledAndRestarted()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe", o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
            o.HeartbeatTimeout = TimeSpan.FromMilliseconds(1500);
        }));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");
        int pid = client.Status.Pid;

        ProcessWatch.Signal(pid, 19); // SIGSTOP: the process is frozen, its sockets stay open.

        LogEntry killed = await host.Logs.WaitForAsync(e => e.EventId == 7005 && Equals(e.Scope.GetValueOrDefault("WorkerPid"), pid));
        Assert.Contains("hung", killed.Message);
        await host.WaitForStartAsync("probe", 2);
        Assert.Equal(2, (await client.RequestAsync(new ProbeCommand("info"))).Incarnation);
    }

    [Fact(Timeout = 120_000)]
    public async Task FailFastPolicy_WhileDown_ThrowsAtOnce()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe", o =>
        {
            o.Restart = IpcRestartType.Temporary;
            o.UnavailablePolicy = IpcUnavailablePolicy.FailFast;
        }));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");
        ProcessWatch.Signal(client.Status.Pid, 9);
        await host.WaitForExitAsync("probe", 1);

        var error = await Assert.ThrowsAsync<IpcWorkerUnavailableException>(() => client.SendAsync(new ProbeCommand("echo")).AsTask());
        Assert.Contains("'probe'", error.Message);
        Assert.True(error.Waited < TimeSpan.FromSeconds(1));
    }

    [Fact(Timeout = 120_000)]
    public async Task WarmStandby_Crash_StandbyTakesOverAtOnce_AndANewStandbyFollows()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "spare", o => o.WarmStandby = true));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("spare");
        LogEntry standby = await host.Logs.WaitForAsync(e => e.EventId == 7018 && Equals(e.Scope.GetValueOrDefault("WorkerIncarnation"), 2));
        var standbyPid = (int)standby.Scope["WorkerPid"]!;
        int firstPid = client.Status.Pid;

        ProcessWatch.Signal(firstPid, 9);
        LogEntry started = await host.WaitForStartAsync("spare", 2);

        ProbeReply reply = await client.RequestAsync(new ProbeCommand("info"));
        Assert.Equal(standbyPid, reply.Pid);
        Assert.Equal(2, reply.Incarnation);
        Assert.Equal(standbyPid, started.Scope["WorkerPid"]);
        await host.Logs.WaitForAsync(e => e.EventId == 7018 && Equals(e.Scope.GetValueOrDefault("WorkerIncarnation"), 3));
    }
}
