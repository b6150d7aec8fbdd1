using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Sandbox;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>An in-process parent host whose workers are the test host app's ProbeWorker.</summary>
public sealed class SupervisedHost : IAsyncDisposable
{
    private SupervisedHost(IHost host, CapturingLoggerProvider logs)
    {
        Host = host;
        Logs = logs;
    }

    public IHost Host { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>Builds (not starts) a host; <paramref name="configure"/> adds workers with <see cref="AddProbe"/>.</summary>
    public static SupervisedHost Create(Action<HostApplicationBuilder> configure)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            Args = [],
        });
        var logs = new CapturingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        // These tests are not about a worker's failed start: one that fails for a reason outside the test (a machine
        // loaded by parallel test runs) is a crash, restarted, rather than a failed host start. The default (the host's
        // start fails) is proven by ConformanceEndToEndTests, which sets it back.
        builder.Services.AddIpcSupervisor(o => o.FailHostOnStartFailure = false);
        configure(builder);
        return new SupervisedHost(builder.Build(), logs);
    }

    /// <summary>Adds a ProbeWorker launched from the test host app.</summary>
    public static void AddProbe(HostApplicationBuilder builder, string name, Action<IpcWorkerOptions>? configure = null) =>
        builder.AddIpcWorker<ProbeWorker>(name, o =>
        {
            UseTestLaunch(o, TestPaths.Apphost);
            // Sandboxed by default like any worker, except for the PID namespace: these tests compare the pid a
            // probe reports (Environment.ProcessId) with the pid the supervisor sees, and in its own PID namespace
            // a worker is pid 1. SandboxTests and ParentProcessTests run workers with the whole default sandbox.
            o.Sandbox.Namespaces &= ~SandboxNamespaces.Pid;
            configure?.Invoke(o);
        });

    /// <summary>Makes a probe worker take the lean entry point (<see cref="IpcWorkerHost"/>, no Generic Host): the test
    /// host app does when TESTHOST_ENTRY=lean. The parent side is the usual AddIpcWorker.</summary>
    public static void UseLeanEntry(IpcWorkerOptions o) => o.Environment["TESTHOST_ENTRY"] = "lean";

    /// <summary>The tests' launch of a worker: <paramref name="executable"/> without arguments, bounds generous enough
    /// for a loaded 2-CPU machine, a heartbeat fast enough to notice a hung worker within a test.</summary>
    public static void UseTestLaunch(IpcWorkerOptions o, string executable)
    {
        o.Executable = executable;
        o.Arguments = [];
        o.StartTimeout = TimeSpan.FromSeconds(30);
        o.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
        o.HeartbeatTimeout = TimeSpan.FromSeconds(10);
        o.UnavailableTimeout = TimeSpan.FromSeconds(30);
        o.StopTimeout = TimeSpan.FromSeconds(10);
    }

    private bool _started;

    public async Task StartAsync()
    {
        _started = true;
        await Host.StartAsync().WithTimeout(TimeSpan.FromSeconds(90));
    }

    /// <summary>Waits for the supervisor's "started" record of <paramref name="name"/>'s incarnation <paramref name="incarnation"/>.</summary>
    public Task<LogEntry> WaitForStartAsync(string name, int incarnation) =>
        Logs.WaitForAsync(e => e.EventId == 7000 && Equals(e.Scope.GetValueOrDefault("WorkerName"), name) && Equals(e.Scope.GetValueOrDefault("WorkerIncarnation"), incarnation));

    /// <summary>Waits for the supervisor's "ended" record of <paramref name="name"/>'s incarnation <paramref name="incarnation"/>.</summary>
    public Task<LogEntry> WaitForExitAsync(string name, int incarnation) =>
        Logs.WaitForAsync(e => e.EventId == 7001 && Equals(e.Scope.GetValueOrDefault("WorkerName"), name) && Equals(e.Scope.GetValueOrDefault("WorkerIncarnation"), incarnation));

    public IpcWorkerClient<ProbeCommand, ProbeReply> Client(string name) =>
        Host.Services.GetRequiredKeyedService<IpcWorkerClient<ProbeCommand, ProbeReply>>(name);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_started)
            {
                await Host.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
        }
        finally
        {
            Host.Dispose();
        }
    }
}
