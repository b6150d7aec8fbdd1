using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// A compromised worker attacks its supervisor from inside (tests/Supervisor.TestHost's <c>HostileActs</c>): it
/// forges the supervisor's log records, floods its log, and holds silent connections to the bootstrap server. Each
/// attack must fail; a twin shows it succeeds with that defence off. The attacking workers run without the sandbox:
/// these are the supervisor's own defences, whatever the sandbox allows.
/// </summary>
public class HostileWorkerTests
{
    [Fact(Timeout = 120_000)]
    public async Task ForgedSupervisorRecord_IsLoggedUnderTheWorkersCategory()
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "forger"));
        await host.StartAsync();

        await host.Client("forger").RequestAsync(new ProbeCommand("forge-log", "IpcChannel.Supervisor"));

        LogEntry forged = await host.Logs.WaitForAsync(e => e.Message.Contains("forged by forger", StringComparison.Ordinal));
        Assert.Equal("IpcChannel.Workers.forger.IpcChannel.Supervisor", forged.Category);
        Assert.Equal(LogLevel.Critical, forged.Level);
        Assert.Equal(7004, forged.EventId);
        Assert.Equal("forger", forged.Scope["WorkerName"]);
        Assert.DoesNotContain(host.Logs.Entries, e => !e.Category.StartsWith("IpcChannel.Workers.forger", StringComparison.Ordinal) && e.Message.Contains("forged", StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task RecordsIn300Categories_TheFirst256GetTheirOwn_TheRestGoUnderTheWorkersCategory()
    {
        // Every logger the parent makes is kept by its logger factory: a worker's categories must not grow it for good.
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "cats", o => o.MaxLogRecordsPerSecond = 100_000));
        await host.StartAsync();

        await host.Client("cats").RequestAsync(new ProbeCommand("log-categories", Number: 300));

        LogEntry last = await host.Logs.WaitForAsync(e => e.Message == "category record 299");
        LogEntry first = await host.Logs.WaitForAsync(e => e.Message == "category record 0");
        Assert.Equal("IpcChannel.Workers.cats.Category0", first.Category);
        Assert.Equal("IpcChannel.Workers.cats", last.Category);
        Assert.True(host.Logs.Entries.Select(e => e.Category).Where(c => c.StartsWith("IpcChannel.Workers.cats.", StringComparison.Ordinal)).Distinct().Count() <= 256);
    }

    [Fact(Timeout = 120_000)]
    public async Task LogAndStdoutFlood_IsThrottledWithADroppedSummary_AndASiblingAnswersMeanwhile()
    {
        const int limit = 50;
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            SupervisedHost.AddProbe(b, "flooder", o => o.MaxLogRecordsPerSecond = limit);
            SupervisedHost.AddProbe(b, "calm");
        });
        await host.StartAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        Task<ProbeReply> flooding = host.Client("flooder").RequestAsync(new ProbeCommand("log-flood", Number: 20_000));
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("still here", (await host.Client("calm").RequestAsync(new ProbeCommand("echo", "still here"))).Text);
        }

        await flooding;
        LogEntry dropped = await host.Logs.WaitForAsync(e => e.EventId == 7032);
        Assert.Equal("IpcChannel.Workers.flooder", dropped.Category);
        Assert.Contains("flooder", dropped.Message, StringComparison.Ordinal);

        // Records and stdout lines draw on one bucket, which lets through its burst plus its rate for the time that
        // passed, never the whole flood (20,000 of each).
        int written = host.Logs.Entries.Count(e => e.Category == "IpcChannel.Workers.flooder.Flood" || e.Message.StartsWith("flood line", StringComparison.Ordinal));
        Assert.True(written <= limit + (limit * (clock.Elapsed.TotalSeconds + 1)), $"{written} flood records were written in {clock.Elapsed}");
    }

    [Fact(Timeout = 180_000)]
    public async Task SilentBootstrapConnections_DoNotDelayASiblingsRestart()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            SupervisedHost.AddProbe(b, "holder", o => o.Sandbox.Enabled = false);
            SupervisedHost.AddProbe(b, "sibling", o => o.StartTimeout = TimeSpan.FromSeconds(60));
        });
        await host.StartAsync();

        await host.Client("holder").RequestAsync(new ProbeCommand("hold-bootstrap", Number: 300));
        await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => host.Client("sibling").RequestAsync(new ProbeCommand("failfast")));

        // Restarted although 300 silent connections were made: the filter refuses them (the holder is no launch in
        // progress), and the first-message deadline would evict them.
        await host.WaitForStartAsync("sibling", 2);
        Assert.Equal(2, (await host.Client("sibling").RequestAsync(new ProbeCommand("info"))).Incarnation);
    }

    [Fact(Timeout = 180_000)]
    public async Task SilentBootstrapConnections_DefencesOff_SiblingDoesNotConnectBack()
    {
        // The twin: only the uid check, no deadline. The silent connections fill the pending set and the backlog.
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            b.Services.AddIpcSupervisor(o => o.TrustBootstrapPeers = true);
            SupervisedHost.AddProbe(b, "holder", o => o.Sandbox.Enabled = false);
            SupervisedHost.AddProbe(b, "sibling", o =>
            {
                o.StartTimeout = TimeSpan.FromSeconds(5);
                o.Restart = IpcRestartType.Transient;
            });
        });
        await host.StartAsync();

        await host.Client("holder").RequestAsync(new ProbeCommand("hold-bootstrap", Number: 300));
        await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => host.Client("sibling").RequestAsync(new ProbeCommand("failfast")));

        LogEntry ended = await host.WaitForExitAsync("sibling", 2);
        Assert.Contains("did not connect back", ended.Message, StringComparison.Ordinal);
    }
}

/// <summary>Tests that measure this process's peak memory: nothing else may run meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ParentMemoryCollection
{
    public const string Name = "Parent memory";
}

/// <summary>
/// A worker sends, on every channel it has to the parent, one frame whose body is a sealed sparse memfd (it costs
/// the worker nothing). The parent is this test process; its peak RSS (VmHWM, reset before the attack) is the measure.
/// </summary>
[Collection(ParentMemoryCollection.Name)]
public class ParentMemoryTests
{
    private const long MiB = 1024 * 1024;

    [Fact(Timeout = 180_000)]
    public async Task SparseMemfdOf1GiB_IsRefusedAtTheLimit_ParentPeakRssGrowsLessThan128MiB()
    {
        (LogEntry violation, long growth) = await BombAsync(sizeMiB: 1024, maxMessageSize: null);

        // Refused at its declared size against the default 4 MiB: nothing of it was allocated or read.
        Assert.Contains("1073741824", violation.Message, StringComparison.Ordinal);
        Assert.Contains(IpcWorkerOptions.DefaultMaxMessageSize.ToString(System.Globalization.CultureInfo.InvariantCulture), violation.Message, StringComparison.Ordinal);
        Assert.True(growth < 128 * MiB, $"the parent's peak RSS grew by {growth / MiB} MiB");
    }

    [Fact(Timeout = 180_000)]
    public async Task SparseMemfdOf160MiB_LimitRaisedTo256MiB_ParentReadsIt()
    {
        // The twin: with the limit above the message, the parent pays for every byte the worker declared.
        (_, long growth) = await BombAsync(sizeMiB: 160, maxMessageSize: (int)(256 * MiB));

        Assert.True(growth >= 150 * MiB, $"the parent's peak RSS grew by only {growth / MiB} MiB");
    }

    private static async Task<(LogEntry Violation, long PeakGrowth)> BombAsync(int sizeMiB, int? maxMessageSize)
    {
        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "bomber", o =>
        {
            o.Sandbox.Enabled = false;
            o.Restart = IpcRestartType.Temporary;
            if (maxMessageSize is { } limit)
            {
                o.MaxMessageSize = limit;
            }
        }));
        await host.StartAsync();
        Assert.Equal("up", (await host.Client("bomber").RequestAsync(new ProbeCommand("echo", "up"))).Text);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5"); // resets VmHWM to the current RSS
        long before = PeakRss();

        await host.Client("bomber").SendAsync(new ProbeCommand("memfd-bomb", Number: sizeMiB));
        LogEntry violation = await host.Logs.WaitForAsync(e => e.EventId == 7013);
        await host.WaitForExitAsync("bomber", 1);
        return (violation, PeakRss() - before);
    }

    private static long PeakRss()
    {
        string line = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
