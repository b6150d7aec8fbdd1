using System;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Tests.Support;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>The test host app as the supervising parent, in its own process.</summary>
public partial class ParentProcessTests
{
    [Fact(Timeout = 120_000)]
    public async Task ParentSigkill_EveryWorkerExitsWithinOneSecond()
    {
        using ParentProcess parent = ParentProcess.Start("three");
        int[] workers = ParsePids(await parent.WaitForLineAsync(l => l.StartsWith("READY", StringComparison.Ordinal), TimeSpan.FromSeconds(90)));
        Assert.Equal(3, workers.Length);
        Assert.All(workers, pid => Assert.True(pid > 0));

        parent.Signal(9);

        // Give the kernel's exit of the parent itself a moment to be noticed: measured from its end.
        Assert.True(ProcessWatch.ExitedWithin(parent.Pid, TimeSpan.FromSeconds(5)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (int pid in workers)
        {
            TimeSpan left = TimeSpan.FromSeconds(1) - clock.Elapsed;
            Assert.True(ProcessWatch.ExitedWithin(pid, left > TimeSpan.Zero ? left : TimeSpan.Zero), $"worker {pid} outlived its parent by more than 1 s");
        }
    }

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HostStop_WorkersStopGracefully_InReverseStartOrder_AndOtherServicesRanOnlyInParent(bool viaDotnet)
    {
        using ParentProcess parent = ParentProcess.Start("three", viaDotnet);
        int[] workers = ParsePids(await parent.WaitForLineAsync(l => l.StartsWith("READY", StringComparison.Ordinal), TimeSpan.FromSeconds(90)));

        // The default launch relaunches the app the way it was started: its apphost, or dotnet app.dll.
        string commandLine = System.IO.File.ReadAllText($"/proc/{workers[0]}/cmdline").Replace('\0', ' ');
        Assert.Contains("--scenario three", commandLine);
        Assert.Equal(viaDotnet, commandLine.Contains("IpcChannel.Supervisor.TestHost.dll", StringComparison.Ordinal));

        parent.Signal(15);
        int code = await parent.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, code);
        string[] stopped = parent.Lines.Where(l => l.Contains("[7007]", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, stopped.Length);
        Assert.Contains("Worker c ", stopped[0]);
        Assert.Contains("Worker b ", stopped[1]);
        Assert.Contains("Worker a ", stopped[2]);
        Assert.All(stopped, l => Assert.Contains("(graceful stop)", l));

        // The app's own hosted service ran once, in the parent; the workers ran only their worker.
        string[] markers = parent.Lines.Where(l => l.Contains("MARKER-SERVICE-STARTED", StringComparison.Ordinal)).ToArray();
        Assert.Equal([$"MARKER-SERVICE-STARTED pid={parent.Pid}"], markers);
        Assert.Equal(3, parent.Lines.Count(l => l.Contains("Probe ", StringComparison.Ordinal) && l.Contains(" stopping.", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 120_000)]
    public async Task IntensityExceeded_SupervisorGivesUp_HostExitsNonZero()
    {
        using ParentProcess parent = ParentProcess.Start("giveup");

        int code = await parent.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(70, code);
        Assert.Contains(parent.Lines, l => l.Contains("gives up", StringComparison.Ordinal) && l.Contains("crasher", StringComparison.Ordinal));
        Assert.Equal(3, parent.Lines.Count(l => l.Contains("[7001]", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task BadOptions_HostFailsAtStart_NamingTheOption()
    {
        using ParentProcess parent = ParentProcess.Start("badoptions");

        int code = await parent.WaitForExitAsync(TimeSpan.FromSeconds(50));

        Assert.NotEqual(0, code);
        Assert.Contains(parent.Lines, l => l.Contains("HeartbeatTimeout", StringComparison.Ordinal) && l.Contains("'bad'", StringComparison.Ordinal));
    }

    private static int[] ParsePids(string ready) =>
        PidsPattern().Matches(ready).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [GeneratedRegex(@"[abc]:(\d+)")]
    private static partial Regex PidsPattern();
}
