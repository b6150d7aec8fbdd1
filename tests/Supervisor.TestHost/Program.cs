using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel;
using IpcChannel.Supervisor;
using IpcChannel.Supervisor.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// The supervisor tests' host app. In a worker launched by an in-process test host it runs a ProbeWorker
// (a SandboxProbeWorker for names starting with "sandbox") under whatever name it was given; with
// "--scenario NAME" it is itself a supervising parent. It does not call SandboxStages.RunFirstStageIfRequested()
// itself: AddIpcWorker runs the sandbox's first stage, which the tests thereby cover. With TESTHOST_ENTRY=lean in
// its environment a worker takes the lean entry point (IpcWorkerHost.RunAsync) instead of a host.
string scenario = args.SkipWhile(a => a != "--scenario").Skip(1).FirstOrDefault() ?? "probe";
string? misbehave = Environment.GetEnvironmentVariable("TESTHOST_MISBEHAVE");
if (IpcWorkerEnvironment.IsWorker && misbehave is "silent" or "garbage")
{
    if (misbehave == "garbage")
    {
        using IpcSender<byte[]> sender = IpcSender<byte[]>.Connect(Environment.GetEnvironmentVariable(IpcWorkerEnvironment.BootstrapVariable)!);
        sender.Send([0xC1, 0xC1, 0xC1]);
        await Task.Delay(Timeout.Infinite);
    }

    await Task.Delay(Timeout.Infinite);
}

if (IpcWorkerEnvironment.IsWorker && Environment.GetEnvironmentVariable("TESTHOST_ENTRY") == "lean")
{
    // The lean entry point: no Generic Host in the worker, only the services given here (none: the probe needs
    // only its ILogger). The parent registered it with AddIpcWorker as usual.
    return await IpcWorkerHost.RunAsync<ProbeWorker>(args);
}

return await HostedApp.RunAsync(args, scenario, misbehave);

/// <summary>
/// The app with a Generic Host (a parent, or a worker under AddIpcWorker). Kept out of the top-level Main so that a
/// lean worker, which returns before it, never makes the runtime load the hosting assemblies this code references.
/// </summary>
internal static class HostedApp
{
    public static async Task<int> RunAsync(string[] args, string scenario, string? misbehave)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.IncludeScopes = true;
            o.SingleLine = true;
        });

        switch (scenario)
        {
            case "probe":
                if (IpcWorkerEnvironment.WorkerName is { } name)
                {
                    if (misbehave == "wrongtype")
                    {
                        builder.AddIpcWorker<WrongTypeWorker>(name);
                    }
                    else if (name.StartsWith("sandbox", StringComparison.Ordinal))
                    {
                        builder.AddIpcWorker<SandboxProbeWorker>(name);
                    }
                    else
                    {
                        builder.AddIpcWorker<ProbeWorker>(name);
                    }
                }

                break;
            case "three":
                // Parent with three workers and one ordinary hosted service (which must not run in the workers).
                builder.Services.AddHostedService<MarkerService>();

                // A worker start that fails on a machine loaded by parallel test runs is a crash and restarted here (the
                // default fails the host's start; ConformanceEndToEndTests proves it).
                builder.Services.AddIpcSupervisor(o => o.FailHostOnStartFailure = false);
                foreach (string worker in new[] { "a", "b", "c" })
                {
                    builder.AddIpcWorker<ProbeWorker>(worker, o =>
                    {
                        o.StopTimeout = TimeSpan.FromSeconds(3);
                        o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
                        o.HeartbeatTimeout = TimeSpan.FromSeconds(2);
                    });
                }

                builder.Services.AddHostedService<ReadyReporter>();
                break;
            case "giveup":
                builder.Services.AddIpcSupervisor(o =>
                {
                    o.MaxRestarts = 2;
                    o.FailHostOnStartFailure = false;   // a start failed by a loaded machine is one more crash
                    o.RestartPeriod = TimeSpan.FromSeconds(30);
                    o.BackoffInitial = TimeSpan.FromMilliseconds(10);
                });
                builder.AddIpcWorker<ProbeWorker>("crasher", o => o.Environment["TESTHOST_CRASH_AT_START"] = "1");
                break;
            case "giveup-backoff":
                // A crash loop whose backoff delays are longer than the intensity's period: it must still give up.
                builder.Services.AddIpcSupervisor(o =>
                {
                    o.MaxRestarts = 2;
                    o.FailHostOnStartFailure = false;   // a start failed by a loaded machine is one more crash
                    o.RestartPeriod = TimeSpan.FromSeconds(20);
                    o.BackoffInitial = TimeSpan.FromSeconds(25);
                    o.BackoffMax = TimeSpan.FromSeconds(25);
                    o.BackoffJitter = 0.1;
                });
                builder.AddIpcWorker<ProbeWorker>("crasher", o => o.Environment["TESTHOST_CRASH_AT_START"] = "1");
                break;
            case "badoptions":
                builder.AddIpcWorker<ProbeWorker>("bad", o => o.HeartbeatTimeout = TimeSpan.FromMilliseconds(10));
                break;
            default:
                Console.Error.WriteLine($"unknown scenario {scenario}");
                return 2;
        }

        using (IHost host = builder.Build())
        {
            await host.RunAsync();
        }

        // A worker told to linger stays on after its host and channels closed, as a process with slow exit work does.
        if (IpcWorkerEnvironment.IsWorker && int.TryParse(Environment.GetEnvironmentVariable("TESTHOST_LINGER_MS"), out int linger))
        {
            Thread.Sleep(linger);
        }

        return Environment.ExitCode;
    }
}

/// <summary>An ordinary hosted service of the app: says where it runs.</summary>
internal sealed class MarkerService : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Console.WriteLine($"MARKER-SERVICE-STARTED pid={Environment.ProcessId}");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Prints the workers' pids once the supervisor started them all (it starts before this service).</summary>
internal sealed class ReadyReporter(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        string pids = string.Join(',', new[] { "a", "b", "c" }.Select(n =>
            $"{n}:{services.GetRequiredKeyedService<IpcWorkerClient<ProbeCommand, ProbeReply>>(n).Status.Pid}"));
        Console.WriteLine($"READY parent={Environment.ProcessId} pids={pids}");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
