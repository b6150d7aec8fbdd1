using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Supervisor benchmarks: worker cold start to first message, crash to serving again, and N idle workers
// with the parent's memory over time. The program relaunches itself as the workers (the default path).
//   dotnet run -c Release --project bench/Supervisor.Bench -- [coldstart|restart|idle] [count] [idleSeconds]
if (IpcWorkerEnvironment.IsWorker)
{
    // A worker needs no configuration files or console logging: the lean host keeps its start short.
    bool trace = Environment.GetEnvironmentVariable("BENCH_TRACE_START") == "1";
    Stopwatch sinceMain = Stopwatch.StartNew();
    TimeSpan beforeMain = DateTime.Now - Process.GetCurrentProcess().StartTime;
    HostApplicationBuilder worker = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = args });
    worker.AddIpcWorker<EchoWorker>(IpcWorkerEnvironment.WorkerName!);
    using IHost workerHost = worker.Build();
    TimeSpan built = sinceMain.Elapsed;
    if (trace)
    {
        Console.Error.WriteLine($"runtime start to Main {beforeMain.TotalMilliseconds:0} ms, host built +{built.TotalMilliseconds:0} ms");
    }

    try
    {
        await workerHost.StartAsync();
    }
    finally
    {
        if (trace)
        {
            Console.Error.WriteLine($"host started (hello sent) +{sinceMain.Elapsed.TotalMilliseconds:0} ms");
        }
    }

    await workerHost.WaitForShutdownAsync();
    return 0;
}

string which = args.FirstOrDefault() ?? "all";
int count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
if (which is "coldstart" or "all")
{
    await Bench.ColdStartAsync(count > 0 ? count : 15);
}

if (which is "restart" or "all")
{
    await Bench.RestartAsync(count > 0 ? count : 15, standby: false);
}

if (which is "restart-standby" or "all")
{
    await Bench.RestartAsync(count > 0 ? count : 15, standby: true);
}

if (which is "idle" or "all")
{
    int seconds = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 60;
    await Bench.IdleAsync(count > 0 ? count : 200, TimeSpan.FromSeconds(seconds));
}

return 0;

/// <summary>Echoes requests.</summary>
public sealed class EchoWorker : IpcWorker<string, string>
{
    protected override ValueTask<string> OnRequestAsync(string request, CancellationToken cancellationToken) => ValueTask.FromResult(request);
}

internal static class Bench
{
    public static async Task ColdStartAsync(int runs)
    {
        var samples = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            using IHost host = Build(1);
            var clock = Stopwatch.StartNew();
            await host.StartAsync();
            string reply = await Client(host, "w0").RequestAsync("first");
            samples.Add(clock.Elapsed.TotalMilliseconds);
            await host.StopAsync();
        }

        Report("cold start to first message (host start -> first reply), 1 worker", samples);
    }

    public static async Task RestartAsync(int runs, bool standby)
    {
        using IHost host = Build(1, standby);
        await host.StartAsync();
        IpcWorkerClient<string, string> client = Client(host, "w0");
        await client.RequestAsync("warm");
        var samples = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            if (standby)
            {
                // Let the next standby finish its own start, as it would between real crashes.
                while (!Standby(host))
                {
                    await Task.Delay(20);
                }
            }

            int pid = client.Status.Pid;
            using (var self = Process.GetProcessById(pid))
            {
                var clock = Stopwatch.StartNew();
                self.Kill();
                string reply;
                while (true)
                {
                    try
                    {
                        reply = await client.RequestAsync("again");
                        break;
                    }
                    catch (IpcWorkerCrashedException)
                    {
                        // Raced the kill: the request went to the dying incarnation; ask again.
                    }
                }

                samples.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        Report($"crash (SIGKILL) to serving again (first reply from the new incarnation){(standby ? ", warm standby" : string.Empty)}", samples);
        await host.StopAsync();
    }

    public static async Task IdleAsync(int workers, TimeSpan idle)
    {
        using IHost host = Build(workers);
        var clock = Stopwatch.StartNew();
        await host.StartAsync();
        Console.WriteLine($"{workers} workers started in {clock.Elapsed.TotalSeconds:0.0} s");
        for (int i = 0; i < workers; i++)
        {
            await Client(host, $"w{i}").RequestAsync("hello");
        }

        GC.Collect();
        (long rss0, long heap0, int threads0) = Memory();
        Console.WriteLine($"t=0 s: parent RSS {rss0 / 1024} MiB, GC heap {heap0 / 1024 / 1024} MiB, threads {threads0}");
        long rssMax = rss0;
        var tick = Stopwatch.StartNew();
        int step = (int)Math.Max(1, idle.TotalSeconds / 6);
        for (int t = step; t <= idle.TotalSeconds; t += step)
        {
            await Task.Delay(TimeSpan.FromSeconds(step));
            (long rss, long heap, int threads) = Memory();
            rssMax = Math.Max(rssMax, rss);
            int running = Enumerable.Range(0, workers).Count(i => Client(host, $"w{i}").Status.State == IpcWorkerState.Running);
            Console.WriteLine($"t={tick.Elapsed.TotalSeconds:0} s: parent RSS {rss / 1024} MiB, GC heap {heap / 1024 / 1024} MiB, threads {threads}, running {running}");
        }

        GC.Collect();
        (long rssEnd, long heapEnd, _) = Memory();
        Console.WriteLine($"idle {idle.TotalSeconds:0} s: RSS {rss0 / 1024} -> {rssEnd / 1024} MiB (max {rssMax / 1024}), GC heap after collect {heap0 / 1024 / 1024} -> {heapEnd / 1024 / 1024} MiB");
        clock.Restart();
        await host.StopAsync();
        Console.WriteLine($"{workers} workers stopped in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static bool Standby(IHost host) =>
        host.Services.GetRequiredService<IpcChannel.Supervisor.Parent.IpcSupervisor>().Slots[0].Standby is { Connected: true };

    private static IHost Build(int workers, bool standby = false)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5));
        builder.Services.AddIpcSupervisor(o =>
        {
            o.MaxRestarts = 1000;
            o.BackoffInitial = TimeSpan.Zero;
        });
        for (int i = 0; i < workers; i++)
        {
            builder.AddIpcWorker<EchoWorker>($"w{i}", o =>
            {
                o.Arguments = [];
                o.StartTimeout = TimeSpan.FromSeconds(60);
                o.StopTimeout = TimeSpan.FromSeconds(30);
                o.WarmStandby = standby;
            });
        }

        return builder.Build();
    }

    private static IpcWorkerClient<string, string> Client(IHost host, string name) =>
        host.Services.GetRequiredKeyedService<IpcWorkerClient<string, string>>(name);

    private static (long RssKiB, long Heap, int Threads) Memory()
    {
        string status = File.ReadAllText("/proc/self/status");
        long rss = long.Parse(status.Split('\n').First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        using var self = Process.GetCurrentProcess();
        return (rss, GC.GetTotalMemory(false), self.Threads.Count);
    }

    private static void Report(string what, List<double> samples)
    {
        samples.Sort();
        double P(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Floor(q * samples.Count))];
        Console.WriteLine($"{what}: n={samples.Count} min {samples[0]:0.0} ms, median {P(0.5):0.0} ms, p90 {P(0.9):0.0} ms, max {samples[^1]:0.0} ms");
    }
}
