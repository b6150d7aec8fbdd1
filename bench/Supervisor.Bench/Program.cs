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
//   dotnet run -c Release --project bench/Supervisor.Bench -- [coldstart|phases|restart|restart-standby|idle] [count] [idleSeconds]
// Workers run without the sandbox unless BENCH_SANDBOX=on (the library's default on Linux). BENCH_WORKER_HOST picks
// the worker's entry: unset, Host.CreateEmptyApplicationBuilder + AddIpcWorker; "default", Host.CreateApplicationBuilder;
// "lean", IpcWorkerHost.RunAsync (no Generic Host). BENCH_WORKER_EXE launches another worker executable instead of this
// app (bench/Supervisor.AotWorker: the same worker, lean entry point, published with NativeAOT).
if (IpcWorkerEnvironment.IsWorker)
{
    // A sandboxed launch (BENCH_SANDBOX=on) re-executes here, before anything else is loaded.
    IpcChannel.Supervisor.Sandbox.SandboxStages.RunFirstStageIfRequested();
    Phases.Mark("child: Main entered");
    if (Environment.GetEnvironmentVariable("BENCH_TRACE_LOADS") is { Length: > 0 } loads)
    {
        // Who loads what: each assembly load with the stack that caused it.
        AppDomain.CurrentDomain.AssemblyLoad += (_, e) => File.AppendAllText(loads, $"== {e.LoadedAssembly.GetName().Name}\n{Environment.StackTrace}\n");
    }

    if (Environment.GetEnvironmentVariable("BENCH_DI_NO_EMIT") == "1")
    {
        AppContext.SetSwitch("Microsoft.Extensions.DependencyInjection.DisableDynamicEngine", true);
    }

    if (Environment.GetEnvironmentVariable("BENCH_WORKER_HOST") == "lean")
    {
        // The lean entry point: no Generic Host, only a ServiceCollection (EchoWorker needs no services).
        return await IpcWorkerHost.RunAsync<EchoWorker>(args);
    }

    return await HostedWorker.RunAsync(args);
}

string which = args.FirstOrDefault() ?? "all";
int count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
if (which is "coldstart" or "all")
{
    await Bench.ColdStartAsync(count > 0 ? count : 15);
}

if (which == "phases")
{
    await Bench.PhasesAsync(count > 0 ? count : 15);
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

/// <summary>
/// The worker with a Generic Host (the default path). Outside the top-level Main so that the lean path, which
/// returns before it, never makes the runtime load the hosting assemblies this code references.
/// </summary>
internal static class HostedWorker
{
    public static async Task<int> RunAsync(string[] args)
    {
        // A worker needs no configuration files or console logging: the empty builder keeps its start short.
        bool trace = Environment.GetEnvironmentVariable("BENCH_TRACE_START") == "1";
        Stopwatch sinceMain = Stopwatch.StartNew();
        TimeSpan beforeMain = trace ? DateTime.Now - Process.GetCurrentProcess().StartTime : TimeSpan.Zero;
        // BENCH_WORKER_HOST=default measures what a worker built with the default host (JSON files, environment
        // variables, console logging...) costs instead.
        HostApplicationBuilder worker = Environment.GetEnvironmentVariable("BENCH_WORKER_HOST") == "default"
            ? Host.CreateApplicationBuilder(args)
            : Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = args });
        Phases.Mark("child: builder created");
        worker.AddIpcWorker<EchoWorker>(IpcWorkerEnvironment.WorkerName!);
        Phases.Mark("child: worker added");
        using IHost workerHost = worker.Build();
        Phases.Mark("child: host built");
        TimeSpan built = sinceMain.Elapsed;
        if (trace)
        {
            Console.Error.WriteLine($"runtime start to Main {beforeMain.TotalMilliseconds:0} ms, host built +{built.TotalMilliseconds:0} ms");
        }

        try
        {
            await workerHost.StartAsync();
            Phases.Mark("child: host started (hello sent)");
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
}

/// <summary>Marks the moment the supervisor is about to launch a worker (filters run just before the spawn).</summary>
internal sealed class SpawnMark : IIpcWorkerLaunchFilter
{
    /// <summary>When the last launch began (Stopwatch ticks).</summary>
    public static long LastLaunch;

    public IpcWorkerLaunchSpec Apply(string workerName, int incarnation, IpcWorkerLaunchSpec spec)
    {
        Volatile.Write(ref LastLaunch, Stopwatch.GetTimestamp());
        Phases.Mark("parent: launching");
        return spec;
    }
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

    /// <summary>Cold starts with every phase timestamped, parent and child; prints the median of each step.</summary>
    public static async Task PhasesAsync(int runs)
    {
        string file = Path.Combine(Path.GetTempPath(), $"bench-phases-{Environment.ProcessId}.txt");
        Environment.SetEnvironmentVariable(Phases.Variable, file);
        var steps = new Dictionary<string, List<double>>();
        var order = new List<string>();
        var cpu = new List<(double User, double Sys, string Jit)>();
        for (int i = 0; i < runs; i++)
        {
            File.Delete(file);
            using IHost host = Build(1, trace: true);
            Phases.Mark("parent: host.StartAsync");
            await host.StartAsync();
            Phases.Mark("parent: started (hello accepted)");
            await Client(host, "w0").RequestAsync("first");
            Phases.Mark("parent: first reply");
            await host.StopAsync();
            var marks = new List<(long At, string What)>();
            foreach (string line in File.ReadAllLines(file))
            {
                string[] parts = line.Split(' ', 3);
                if (parts[0] == "cpu")
                {
                    string[] c = line.Split(' ');
                    cpu.Add((double.Parse(c[1], System.Globalization.CultureInfo.InvariantCulture), double.Parse(c[2], System.Globalization.CultureInfo.InvariantCulture), $"{c[3]} methods jitted in {c[4]} ms, {c[5]} assemblies loaded"));
                    continue;
                }

                marks.Add((long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), line[(parts[0].Length + 1)..]));
            }

            marks.Sort((a, b) => a.At.CompareTo(b.At));
            for (int m = 1; m < marks.Count; m++)
            {
                string step = $"{marks[m - 1].What} -> {marks[m].What}";
                if (!steps.TryGetValue(step, out List<double>? list))
                {
                    steps[step] = list = [];
                    order.Add(step);
                }

                list.Add(Stopwatch.GetElapsedTime(marks[m - 1].At, marks[m].At).TotalMilliseconds);
            }

            List<double> total = steps.TryGetValue("total", out List<double>? t) ? t : steps["total"] = [];
            total.Add(Stopwatch.GetElapsedTime(marks[0].At, marks[^1].At).TotalMilliseconds);
        }

        File.Delete(file);
        order.Add("total");
        Console.WriteLine($"cold start phases, median of n={runs} (a step seen in fewer runs says so):");
        foreach (string step in order)
        {
            List<double> list = steps[step];
            list.Sort();
            Console.WriteLine($"  {list[list.Count / 2],7:0.0} ms  {step}{(list.Count < runs ? $" (n={list.Count})" : string.Empty)}");
        }

        cpu.Sort((a, b) => (a.User + a.Sys).CompareTo(b.User + b.Sys));
        (double user, double sys, string jit) = cpu[cpu.Count / 2];
        Console.WriteLine($"worker CPU time at its first request (median by total): {user + sys:0} ms (user {user:0}, sys {sys:0}); {jit}");
    }

    public static async Task RestartAsync(int runs, bool standby)
    {
        using IHost host = Build(1, standby, trace: true);
        await host.StartAsync();
        IpcWorkerClient<string, string> client = Client(host, "w0");
        await client.RequestAsync("warm");
        var samples = new List<double>();
        var detections = new List<double>();
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
                long killed = Stopwatch.GetTimestamp();
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
                long launched = Volatile.Read(ref SpawnMark.LastLaunch);
                if (!standby && launched > killed)
                {
                    detections.Add(Stopwatch.GetElapsedTime(killed, launched).TotalMilliseconds);
                }
            }
        }

        if (detections.Count > 0)
        {
            Report("  of which SIGKILL to the next launch (exit observed, restart decided)", detections);
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

    private static IHost Build(int workers, bool standby = false, bool trace = false)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("BENCH_LOG") == "1")
        {
            // The supervisor's and the workers' logs (a worker's stderr included), to see why a worker failed.
            builder.Logging.AddSimpleConsole();
        }
        if (trace)
        {
            builder.Services.AddSingleton<IIpcWorkerLaunchFilter, SpawnMark>();
        }

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

                // BENCH_WORKER_EXE: a separate worker executable (bench/Supervisor.AotWorker, published with NativeAOT)
                // instead of relaunching this app.
                o.Executable = Environment.GetEnvironmentVariable("BENCH_WORKER_EXE") is { Length: > 0 } exe ? exe : null;
                o.StartTimeout = TimeSpan.FromSeconds(60);
                o.StopTimeout = TimeSpan.FromSeconds(30);
                o.WarmStandby = standby;

                // The goal figures are for the supervisor alone; BENCH_SANDBOX=on measures the default, sandboxed
                // launch (one more runtime start for the sandbox's first stage: see docs/sandbox.md).
                o.Sandbox.Enabled = Environment.GetEnvironmentVariable("BENCH_SANDBOX") == "on";
                foreach (string pair in (Environment.GetEnvironmentVariable("BENCH_WORKER_ENV") ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
                {
                    // Runtime settings for the workers only (DOTNET_TieredPGO=0;DOTNET_TC_QuickJitForLoops=...).
                    string[] kv = pair.Split('=', 2);
                    o.Environment[kv[0]] = kv[1];
                }
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
