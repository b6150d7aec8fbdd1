using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// The point of the two stages: Landlock (ABI 7) and a plain seccomp filter restrict one thread, and the runtime
/// starts threads before Main. After stage 2 every thread of a real, busy worker must be covered.
/// </summary>
public sealed class ThreadCoverageTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task EveryThread_IncludingOneStartedBeforeStage2AndThreadPoolThreads_HasSeccompFilterAndNoNewPrivs()
    {
        WorkerRun run = await SandboxedWorker.RunAsync(SandboxedWorker.Strict(), "threads");
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());

        // The runtime did real work after the filter went in: thread pool, GC, timer, the socket engine.
        Assert.Contains("WORK sum=", run.Output, StringComparison.Ordinal);
        Assert.Contains("channel='through the socket engine'", run.Output, StringComparison.Ordinal);

        var threads = run.Lines("THREAD").Select(Parse).ToList();
        Assert.True(threads.Count >= 5, run.ToString());
        foreach (Dictionary<string, string> thread in threads)
        {
            Assert.True(thread["seccomp"] == "2", $"thread {thread["tid"]} has Seccomp: {thread["seccomp"]}\n{run}");
            Assert.True(thread["filters"] == "1", $"thread {thread["tid"]} has Seccomp_filters: {thread["filters"]}\n{run}");
            Assert.True(thread["nnp"] == "1", $"thread {thread["tid"]} has NoNewPrivs: {thread["nnp"]}\n{run}");
            Assert.True(thread["capeff"] == "0000000000000000", $"thread {thread["tid"]} has CapEff: {thread["capeff"]}\n{run}");
        }

        // The thread started before stage 2, a thread-pool thread and a thread started after are among them.
        Dictionary<string, string> tids = Parse(run.Lines("TIDS").Single());
        var listed = threads.Select(t => t["tid"]).ToHashSet(StringComparer.Ordinal);
        Assert.Contains(tids["early"], listed);
        Assert.Contains(tids["pool"], listed);
        Assert.Contains(tids["late"], listed);

        // Stage 2 checked every thread that existed when it ran.
        int verified = int.Parse(Parse(run.Lines("STATUS").Single())["threads"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(verified >= 4, run.ToString());
    }

    /// <summary>
    /// Launched as <c>dotnet worker.dll</c> instead of through the apphost, stage 1 must re-execute the dotnet host with
    /// the same argv (and Landlock must let it execute the host and its ELF interpreter).
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task LaunchedThroughTheDotnetHost_BothStagesCoverEveryThread()
    {
        string runtime = System.IO.Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string dotnet = System.IO.Path.GetFullPath(System.IO.Path.Combine(runtime, "..", "..", "..", "dotnet"));
        string dll = System.IO.Path.Combine(AppContext.BaseDirectory, "IpcChannel.Sandbox.TestWorker.dll");
        var spec = new Supervisor.Sandbox.SandboxLaunchSpec(dotnet, [dll, "threads"]);
        Supervisor.Sandbox.SandboxedLaunch launch = Supervisor.Sandbox.SandboxLauncher.Plan(
            SandboxedWorker.Strict(), spec, $"dotnet-host-{Guid.NewGuid():N}", SandboxedWorker.Machine.Value);
        launch.Prepare();
        try
        {
            WorkerRun run = await SandboxedWorker.StartAsync(launch.Launch, TimeSpan.FromSeconds(60));
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("sandboxed=True", run.Output, StringComparison.Ordinal);
            var threads = run.Lines("THREAD").Select(Parse).ToList();
            Assert.NotEmpty(threads);
            Assert.All(threads, thread => Assert.Equal("2", thread["seccomp"]));
        }
        finally
        {
            launch.Cleanup();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task SandboxOff_ThreadsHaveNoFilter()
    {
        WorkerRun run = await SandboxedWorker.RunAsync(SandboxedWorker.Off(), "threads");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.All(run.Lines("THREAD").Select(Parse), thread => Assert.Equal("0", thread["seccomp"]));
    }

    /// <summary>Parses <c>key=value key=value ...</c> (the last key, <c>name</c>, may hold spaces).</summary>
    private static Dictionary<string, string> Parse(string line)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        int nameAt = line.IndexOf(" name=", StringComparison.Ordinal);
        if (nameAt >= 0)
        {
            fields["name"] = line[(nameAt + 6)..];
            line = line[..nameAt];
        }

        foreach (string pair in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = pair.Split('=', 2);
            fields[parts[0]] = parts.Length > 1 ? parts[1] : "";
        }

        return fields;
    }
}
