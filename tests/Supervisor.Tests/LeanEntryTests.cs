using System;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using IpcChannel.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// Workers whose process takes the lean entry point (<see cref="IpcWorkerHost.RunAsync{TWorker}"/>, no Generic Host):
/// the test host app does when TESTHOST_ENTRY=lean. The parent side is the usual AddIpcWorker. The logs and SIGKILL
/// tests of the hosted path run with the lean entry too (BasicTests, RestartTests: their leanEntry case).
/// </summary>
public class LeanEntryTests
{
    private static void AddLeanProbe(HostApplicationBuilder builder, string name, Action<IpcWorkerOptions>? configure = null) =>
        SupervisedHost.AddProbe(builder, name, o =>
        {
            SupervisedHost.UseLeanEntry(o);
            configure?.Invoke(o);
        });

    [Fact(Timeout = 120_000)]
    public async Task Lean_ServesTypedRequestsAndMessages_WithoutTheGenericHost()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            AddLeanProbe(b, "probe");
            SupervisedHost.AddProbe(b, "hosted");
        });
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        ProbeReply reply = await client.RequestAsync(new ProbeCommand("echo", "hello"), TimeSpan.FromSeconds(30));
        Assert.Equal("hello", reply.Text);
        Assert.Equal(1, reply.Incarnation);
        Assert.Equal(client.Status.Pid, reply.Pid);
        Assert.Equal("probe", (await client.RequestAsync(new ProbeCommand("info"))).Text);

        await client.SendAsync(new ProbeCommand("notify", "pushed"));
        Assert.Equal("pushed", (await client.ReceiveAsync().AsTask().WithTimeout()).Text);

        IpcWorkerRequestException error = await Assert.ThrowsAsync<IpcWorkerRequestException>(() => client.RequestAsync(new ProbeCommand("fault")));
        Assert.Equal(typeof(ArgumentException).FullName, error.RemoteType);

        // The lean worker never loaded the Generic Host's implementation; the hosted one did (the control).
        await host.Client("hosted").RequestAsync(new ProbeCommand("echo", "loaded"));
        Assert.DoesNotContain("/Microsoft.Extensions.Hosting.dll", System.IO.File.ReadAllText($"/proc/{reply.Pid}/maps"));
        Assert.Contains("/Microsoft.Extensions.Hosting.dll", System.IO.File.ReadAllText($"/proc/{host.Client("hosted").Status.Pid}/maps"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Lean_HostStop_WorkerStopsGracefully()
    {
        SupervisedHost host = SupervisedHost.Create(b => AddLeanProbe(b, "probe"));
        int pid;
        await using (host.ConfigureAwait(false))
        {
            await host.StartAsync();
            pid = host.Client("probe").Status.Pid;
        }

        // The worker got the stop message, its ExecuteAsync saw the stopping token (its log reached the parent
        // before the process exited), and the supervisor saw a graceful stop, not a SIGTERM or SIGKILL.
        Assert.Contains(host.Logs.Entries, e => e.Message.Contains($"(pid {pid}) stopping.", StringComparison.Ordinal));
        LogEntry stopped = Assert.Single(host.Logs.Entries, e => e.EventId == 7007);
        Assert.Contains("(graceful stop)", stopped.Message);
        Assert.True(ProcessWatch.ExitedWithin(pid, TimeSpan.Zero));
    }

    [Fact(Timeout = 120_000)]
    public async Task Lean_ExitCodes_AsTheHostedPath_NormalCompletionZero_CrashOne()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => AddLeanProbe(b, "probe", o => o.Restart = IpcRestartType.Transient));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        // A crash (an exception out of OnMessageAsync): exit code 1, restarted as transient.
        await client.SendAsync(new ProbeCommand("throw"));
        await host.WaitForStartAsync("probe", 2);
        Assert.Contains("exited with code 1", (await host.WaitForExitAsync("probe", 1)).Message);

        // A normal completion (ExecuteAsync returns): exit code 0, not restarted.
        await client.RequestAsync(new ProbeCommand("finish"));
        LogEntry ended = await host.WaitForExitAsync("probe", 2);
        Assert.Contains("exited normally", ended.Message);
        Assert.Contains("restart: False", ended.Message);
        Assert.Equal(2, host.Logs.Entries.Count(e => e.EventId == 7000));
    }
}
