using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Sandbox;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// A root supervisor runs each live worker as a host user of its own from <see cref="SandboxOptions.UserIdRange"/>, so
/// the kernel's per-user accounting separates workers: a worker holding descriptors in flight no longer stops its
/// siblings. Real sandboxed workers (SandboxProbeWorker) under the whole default sandbox; the twin shares the user.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WorkerIdentityTests(ReachableTestHost testHost, ITestOutputHelper output) : IClassFixture<ReachableTestHost>
{
    /// <summary>More than the default RLIMIT_NOFILE (1024) of a worker.</summary>
    private const int InFlight = 1250;

    [PerWorkerUserFact(Timeout = 180_000)]
    public async Task EachLiveWorker_RunsAsAUserOfItsOwnFromTheRange_ARestartedOneToo()
    {
        await using SupervisedHost host = Create(configure: null, "sandbox-a", "sandbox-b");
        await host.StartAsync();
        IpcWorkerClient<SandboxProbe, SandboxReport> a = Client(host, "sandbox-a");
        IpcWorkerClient<SandboxProbe, SandboxReport> b = Client(host, "sandbox-b");
        Assert.True((await a.RequestAsync(new SandboxProbe("status"))).PoolAllowed);
        Assert.True((await b.RequestAsync(new SandboxProbe("status"))).PoolAllowed);

        var range = new SandboxUserIdRange();
        int userA = HostUserOf(a.Status.Pid);
        int userB = HostUserOf(b.Status.Pid);
        output.WriteLine($"a: pid {a.Status.Pid} uid {userA}; b: pid {b.Status.Pid} uid {userB}");
        Assert.True(range.Contains(userA), $"uid {userA}");
        Assert.True(range.Contains(userB), $"uid {userB}");
        Assert.NotEqual(userA, userB);
        Assert.DoesNotContain(host.Logs.Entries, e => e.EventId == 8001 && e.Message.Contains("supervisor's user", StringComparison.Ordinal));

        await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => a.RequestAsync(new SandboxProbe("failfast")));
        await host.WaitForStartAsync("sandbox-a", 2);
        Assert.True((await a.RequestAsync(new SandboxProbe("status"))).PoolAllowed);
        int userA2 = HostUserOf(a.Status.Pid);
        output.WriteLine($"a #2: pid {a.Status.Pid} uid {userA2}");
        Assert.True(range.Contains(userA2), $"uid {userA2}");
        Assert.NotEqual(userB, userA2);
    }

    /// <summary>
    /// What a worker's own user cannot reach (here: its directory root, under a 0700 directory, as a checkout under a
    /// private home would be) makes the supervisor start it as its own user instead, with a warning at every start
    /// that names the path.
    /// </summary>
    /// <summary>A read-write path the worker's own user could not write (the private root binds it as that user) makes
    /// the worker start as the supervisor's user, with the path named, instead of a worker that finds it missing.</summary>
    [PerWorkerUserFact(Timeout = 180_000)]
    public Task UnwritableReadWritePath_StartsTheWorkerAsTheSupervisorsUser_WithAWarningNamingThePath() =>
        AssertStartsAsTheSupervisorsUserNamingAsync((o, privateDirectory) => o.Sandbox.ReadWritePaths.Add(privateDirectory));

    [PerWorkerUserFact(Timeout = 180_000)]
    public Task UnreachableFiles_StartTheWorkerAsTheSupervisorsUser_WithAWarningNamingThePath() =>
        AssertStartsAsTheSupervisorsUserNamingAsync((o, privateDirectory) => o.Sandbox.WorkerDirectoryRoot = Path.Combine(privateDirectory, "workers"));

    /// <summary>Configures a worker with a path inside a new 0700 directory of root's, which a user of its own cannot
    /// reach: the worker starts as the supervisor's user, and the warning names that directory.</summary>
    private async Task AssertStartsAsTheSupervisorsUserNamingAsync(Action<IpcWorkerOptions, string> usePrivateDirectory)
    {
        DirectoryInfo privateDirectory = Directory.CreateTempSubdirectory("ipc-private-");
        try
        {
            File.SetUnixFileMode(privateDirectory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await using SupervisedHost host = Create(o => usePrivateDirectory(o, privateDirectory.FullName), "sandbox-a");
            await host.StartAsync();
            IpcWorkerClient<SandboxProbe, SandboxReport> a = Client(host, "sandbox-a");

            Assert.True((await a.RequestAsync(new SandboxProbe("status"))).PoolAllowed);
            Assert.Equal(0, HostUserOf(a.Status.Pid)); // root: the supervisor's user
            LogEntry warning = host.Logs.Entries.First(e => e.EventId == 8001); // one per start: a restart under load adds another
            Assert.Contains("supervisor's user", warning.Message, StringComparison.Ordinal);
            Assert.Contains(privateDirectory.FullName, warning.Message, StringComparison.Ordinal);
        }
        finally
        {
            privateDirectory.Delete(recursive: true);
        }
    }

    [PerWorkerUserFact(Timeout = 180_000)]
    public async Task DescriptorsInFlightHeldByOneWorker_DoNotStopASiblingsRestart()
    {
        await using SupervisedHost host = await StartWithAHogHoldingDescriptorsAsync(configure: null);
        IpcWorkerClient<SandboxProbe, SandboxReport> hog = Client(host, "sandbox-hog");
        IpcWorkerClient<SandboxProbe, SandboxReport> sibling = Client(host, "sandbox-sibling");

        // The sibling crashes and is restarted while the hog holds its descriptors: its hello passes descriptors.
        await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => sibling.RequestAsync(new SandboxProbe("failfast")));
        await host.WaitForStartAsync("sandbox-sibling", 2);
        SandboxReport report = await sibling.RequestAsync(new SandboxProbe("status"));

        Assert.True(report.PoolAllowed, report.PoolDetail);
        Assert.Equal(2, sibling.Status.Incarnation);
        Assert.Equal(1, hog.Status.Incarnation);
    }

    /// <remarks>
    /// The twin (the same hog and sibling as one user: the sibling's descriptor passing fails with ETOOMANYREFS) is
    /// <c>PerUserAccountingTests.DescriptorsInFlight_HeldByAWorkerOfTheSameUser_…</c> in the sandbox tests, as a user of
    /// the test range. It is not run here with the supervisor's user: the kernel's budget is per user on the whole
    /// machine, so a hog holding root's would make every other root worker's descriptor passing fail, in every test
    /// running beside it.
    /// </remarks>
    private async Task<SupervisedHost> StartWithAHogHoldingDescriptorsAsync(Action<IpcWorkerOptions>? configure)
    {
        SupervisedHost host = Create(configure, "sandbox-hog", "sandbox-sibling");
        try
        {
            await host.StartAsync();

            // Never as the supervisor's user (see above): refuse to hog unless the hog has a user of its own.
            Assert.NotEqual(0, HostUserOf(Client(host, "sandbox-hog").Status.Pid));
            SandboxReport held = await Client(host, "sandbox-hog").RequestAsync(new SandboxProbe("fds-hold", Number: InFlight));
            output.WriteLine($"hog: {held.PoolDetail}");
            Assert.True(held.PoolAllowed, held.PoolDetail);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private SupervisedHost Create(Action<IpcWorkerOptions>? configure, params string[] names) =>
        SupervisedHost.Create(builder =>
        {
            foreach (string name in names)
            {
                builder.AddIpcWorker<SandboxProbeWorker>(name, o =>
                {
                    SupervisedHost.UseTestLaunch(o, testHost.Apphost);
                    o.RequestTimeout = TimeSpan.FromSeconds(60);
                    configure?.Invoke(o);
                });
            }
        });

    private static IpcWorkerClient<SandboxProbe, SandboxReport> Client(SupervisedHost host, string name) =>
        host.Host.Services.GetRequiredKeyedService<IpcWorkerClient<SandboxProbe, SandboxReport>>(name);

    /// <summary>The real user ID of a process, as the host sees it.</summary>
    private static int HostUserOf(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return int.Parse(line["Uid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
