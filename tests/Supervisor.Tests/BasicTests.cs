using System;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using IpcChannel.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

public class BasicTests
{
    [Fact(Timeout = 120_000)]
    public async Task Start_TypedRoundTrip_RequestAndMessages()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe"));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        ProbeReply reply = await client.RequestAsync(new ProbeCommand("echo", "hello"), TimeSpan.FromSeconds(30));
        Assert.Equal("hello", reply.Text);
        // The first incarnation answers (the supervisor's log says why not, if it did not).
        Assert.True(reply.Incarnation == 1, $"incarnation {reply.Incarnation} answered; the supervisor logged:\n{string.Join('\n', host.Logs.Entries)}");
        Assert.Equal(client.Status.Pid, reply.Pid);
        Assert.Equal(IpcWorkerState.Running, client.Status.State);

        await client.SendAsync(new ProbeCommand("notify", "pushed"));
        ProbeReply pushed = await client.ReceiveAsync().AsTask().WithTimeout();
        Assert.Equal("pushed", pushed.Text);

        // The unkeyed handle is the same object.
        Assert.Same(client, host.Host.Services.GetRequiredService<IpcWorkerClient<ProbeCommand, ProbeReply>>());
    }

    [Fact]
    public void AddIpcWorker_NameTakenOrNotAWorker_ThrowsArgumentException()
    {
        // The registration is made through reflection (the worker's message types are found at run time); its
        // exceptions reach the caller as they are, not wrapped in a TargetInvocationException.
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.AddIpcWorker<ProbeWorker>("twice");

        ArgumentException taken = Assert.Throws<ArgumentException>(() => builder.AddIpcWorker<ProbeWorker>("twice"));
        Assert.Contains("'twice' is already registered", taken.Message);
        ArgumentException notAWorker = Assert.Throws<ArgumentException>(() => builder.AddIpcWorker<string>("text"));
        Assert.Contains("IpcWorker<TIn, TOut>", notAWorker.Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task Request_HandlerThrows_CallerGetsRequestException_WorkerGoesOn()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe"));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        IpcWorkerRequestException error = await Assert.ThrowsAsync<IpcWorkerRequestException>(() => client.RequestAsync(new ProbeCommand("fault")));
        Assert.Equal(typeof(ArgumentException).FullName, error.RemoteType);
        Assert.Equal("probe", error.WorkerName);
        Assert.Equal("still here", (await client.RequestAsync(new ProbeCommand("echo", "still here"))).Text);
        Assert.Equal(1, client.Status.Incarnation);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Logs_ArriveInParent_WithWorkerScope(bool leanEntry)
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe", leanEntry ? SupervisedHost.UseLeanEntry : null));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");
        int pid = client.Status.Pid;

        await client.RequestAsync(new ProbeCommand("log", "M42"));

        LogEntry logged = await host.Logs.WaitForAsync(e => e.Message.Contains("log-marker M42"));
        Assert.Equal($"IpcChannel.Workers.probe.{typeof(ProbeWorker).FullName}", logged.Category);
        Assert.Equal(LogLevel.Information, logged.Level);
        Assert.Equal("probe", logged.Scope["WorkerName"]);
        Assert.Equal(pid, logged.Scope["WorkerPid"]);
        Assert.Equal(1, logged.Scope["WorkerIncarnation"]);

        LogEntry stdout = await host.Logs.WaitForAsync(e => e.Message.Contains("stdout-marker M42"));
        Assert.Equal("IpcChannel.Workers.probe", stdout.Category);
        Assert.Equal(pid, stdout.Scope["WorkerPid"]);
    }

    [Fact(Timeout = 120_000)]
    public async Task Worker_GetsBootstrapVariables_AndIncarnationGrows()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe"));
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("probe");

        string environ = ProcessWatch.Environ(client.Status.Pid);
        Assert.Contains($"{IpcWorkerEnvironment.WorkerVariable}=probe", environ);
        Assert.Contains($"{IpcWorkerEnvironment.IncarnationVariable}=1", environ);
        Assert.Contains($"{IpcWorkerEnvironment.ParentPidVariable}={Environment.ProcessId}", environ);
        Assert.Contains(IpcWorkerEnvironment.BootstrapVariable + "=/", environ);
        Assert.Contains(IpcWorkerEnvironment.TokenVariable + "=", environ);

        ProcessWatch.Signal(client.Status.Pid, 9);
        await host.WaitForStartAsync("probe", 2);
        ProbeReply again = await client.RequestAsync(new ProbeCommand("info"));
        Assert.Equal(2, again.Incarnation);
        Assert.Contains($"{IpcWorkerEnvironment.IncarnationVariable}=2", ProcessWatch.Environ(again.Pid));
    }

    [Fact(Timeout = 120_000)]
    public async Task Worker_IsLaunchedWithoutConfigReloadOnChange_UnlessAskedFor()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            SupervisedHost.AddProbe(b, "lean");
            SupervisedHost.AddProbe(b, "reload", o => o.ReloadConfigurationOnChange = true);
        });
        await host.StartAsync();

        Assert.Contains("DOTNET_hostBuilder__reloadConfigOnChange=false", ProcessWatch.Environ(host.Client("lean").Status.Pid));
        Assert.DoesNotContain("DOTNET_hostBuilder__reloadConfigOnChange", ProcessWatch.Environ(host.Client("reload").Status.Pid));
    }

    [Fact(Timeout = 120_000)]
    public async Task HealthCheck_ReportsEachWorker()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "probe"));
        await host.StartAsync();

        HealthReport report = await host.Host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        HealthReportEntry entry = report.Entries["ipc-worker:probe"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(host.Client("probe").Status.Pid, entry.Data["pid"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task BadOptions_FailHostStart_NamingTheOption()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
            SupervisedHost.AddProbe(b, "probe", o => o.HeartbeatTimeout = TimeSpan.FromMilliseconds(100)));

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Host.StartAsync());
        Assert.Contains("HeartbeatTimeout", error.Message);
        Assert.Contains("'probe'", error.Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task HostBuilderShape_AddIpcWorker_ServesThroughDi()
    {
        var logs = new CapturingLoggerProvider();
        using IHost host = new HostBuilder()
            .ConfigureLogging(l => l.AddProvider(logs))
            .AddIpcWorker<ProbeWorker>("classic", o =>
            {
                o.Executable = TestPaths.Dll;
                o.Arguments = [];
                o.StartTimeout = TimeSpan.FromSeconds(30);
                // The test reads /proc/{the pid the probe reports}: keep the worker in this PID namespace.
                o.Sandbox.Namespaces &= ~IpcChannel.Supervisor.Sandbox.SandboxNamespaces.Pid;
            })
            .Build();
        await host.StartAsync().WithTimeout(TimeSpan.FromSeconds(90));
        try
        {
            var client = host.Services.GetRequiredKeyedService<IpcWorkerClient<ProbeCommand, ProbeReply>>("classic");
            ProbeReply reply = await client.RequestAsync(new ProbeCommand("echo", "via dotnet app.dll"));
            Assert.Equal("via dotnet app.dll", reply.Text);
            Assert.Contains("IpcChannel.Supervisor.TestHost.dll", System.IO.File.ReadAllText($"/proc/{reply.Pid}/cmdline"));
        }
        finally
        {
            await host.StopAsync().WithTimeout(TimeSpan.FromSeconds(60));
        }
    }
}
