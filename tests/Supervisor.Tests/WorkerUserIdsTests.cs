using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Parent;
using IpcChannel.Supervisor.Sandbox;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// How the supervisor hands out per-worker users: one per live worker, never one a process still runs as; and the
/// bootstrap server admits only the users of launches in progress.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WorkerUserIdsTests : IDisposable
{
    /// <summary>The tests' own lease directory (the real one is root's, under /run).</summary>
    private readonly System.IO.DirectoryInfo _leases = System.IO.Directory.CreateTempSubdirectory("ipcchannel-leases-");

    public void Dispose() => _leases.Delete(recursive: true);

    private static SandboxUserIdRange Range(int first, int count) => new() { First = first, Count = count };

    [Fact]
    public void TryLease_GivesEachHolderItsOwnUser_AndAReleasedOneAgain()
    {
        var ids = new WorkerUserIds(_ => false, _leases.FullName);
        object a = new(), b = new(), c = new();

        Assert.Equal(5000, ids.TryLease(Range(5000, 2), a));
        Assert.Equal(5001, ids.TryLease(Range(5000, 2), b));
        Assert.Null(ids.TryLease(Range(5000, 2), c));

        ids.Release(5000, c); // not its lease: nothing happens
        Assert.True(ids.IsLeasedBy(5000, a));
        ids.Release(5000, a);
        Assert.Equal(5000, ids.TryLease(Range(5000, 2), c));
    }

    [Fact]
    public void TryLease_SkipsAUserThatAProcessStillRunsAs()
    {
        var busy = new HashSet<int> { 5000 };
        var ids = new WorkerUserIds(busy.Contains, _leases.FullName);

        Assert.Equal(5001, ids.TryLease(Range(5000, 3), new object()));
    }

    /// <summary>Two supervisors (here in one process; the lock is the same across processes) never hold one user ID at once.</summary>
    [Fact]
    public void TryLease_TwoSupervisorsSharingTheLeases_NeverGetTheSameUser()
    {
        var first = new WorkerUserIds(_ => false, _leases.FullName);
        var second = new WorkerUserIds(_ => false, _leases.FullName);
        object a = new(), b = new();

        Assert.Equal(5000, first.TryLease(Range(5000, 2), a));
        Assert.Equal(5001, second.TryLease(Range(5000, 2), b));
        Assert.Null(second.TryLease(Range(5000, 2), new object()));

        first.Release(5000, a);
        Assert.Equal(5000, second.TryLease(Range(5000, 2), new object()));
    }

    /// <summary>A real process of a range user (left behind by an earlier holder, or another supervisor's worker) keeps that user from being handed out.</summary>
    [PerWorkerUserFact(Timeout = 60_000)]
    public async Task AnyProcessRunsAs_SeesARealProcessOfThatUser_UntilItEnds()
    {
        const int User = 1_999_990_301;
        Assert.False(WorkerUserIds.AnyProcessRunsAs(User));
        string id = User.ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("setpriv", ["--reuid=" + id, "--regid=" + id, "--clear-groups", "--", "/bin/sh", "-c", "echo ready; exec sleep 600"])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
        using Process leftover = Process.Start(start)!;
        try
        {
            // "ready" comes from the shell, which setpriv started as the user: from then on a process runs as it.
            Assert.Equal("ready", await leftover.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.True(WorkerUserIds.AnyProcessRunsAs(User));
            Assert.Equal(User + 1, new WorkerUserIds(directory: _leases.FullName).TryLease(Range(User, 2), new object()));
        }
        finally
        {
            leftover.Kill();
            await leftover.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.False(WorkerUserIds.AnyProcessRunsAs(User));
    }

    /// <summary>
    /// The bootstrap socket is opened to the workers' group only (its directory searchable, not listable, by the
    /// group; nothing for others), and a user is admitted only while a launch runs as it.
    /// </summary>
    [PerWorkerUserFact]
    public void BootstrapServer_OpensItsSocketToTheWorkersGroup_AndAdmitsOnlyUsersOfLaunchesInProgress()
    {
        const int Group = 1_999_990_400;
        const uint Admitted = 1_999_990_401;
        using var server = new BootstrapServer(NullLogger.Instance, TimeSpan.FromSeconds(30), workerGroupId: Group);
        string directory = System.IO.Path.GetDirectoryName(server.Name)!;

        Assert.Equal((System.IO.UnixFileMode)0b111_001_000, System.IO.File.GetUnixFileMode(directory));
        Assert.Equal((System.IO.UnixFileMode)0b110_110_000, System.IO.File.GetUnixFileMode(server.Name));
        Assert.Equal(Group, GroupOf(directory));
        Assert.Equal(Group, GroupOf(server.Name));

        _ = server.Expect("token");
        Assert.False(server.IsLaunchUser(Admitted));
        server.AdmitUser("token", (int)Admitted);
        Assert.True(server.IsLaunchUser(Admitted));
        Assert.False(server.IsLaunchUser(Admitted + 1));
        server.Forget("token");
        Assert.False(server.IsLaunchUser(Admitted));
    }

    private static int GroupOf(string path)
    {
        var start = new ProcessStartInfo("stat", ["-c", "%g", path]) { UseShellExecute = false, RedirectStandardOutput = true };
        using Process stat = Process.Start(start)!;
        string output = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return int.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>The bootstrap socket has one group: workers that run as users of their own must share it.</summary>
    [PerWorkerUserFact(Timeout = 60_000)]
    public async Task WorkersNamingDifferentGroups_FailHostStart_NamingBoth()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            b.AddIpcWorker<SandboxProbeWorker>("sandbox-one", o => SupervisedHost.UseTestLaunch(o, TestPaths.Apphost));
            b.AddIpcWorker<SandboxProbeWorker>("sandbox-two", o =>
            {
                SupervisedHost.UseTestLaunch(o, TestPaths.Apphost);
                o.Sandbox.UserIdRange.GroupId = 1_999_990_500;
            });
        });

        IpcWorkerException error = await Assert.ThrowsAsync<IpcWorkerException>(() => host.Host.StartAsync().WaitAsync(TimeSpan.FromSeconds(50)));
        Assert.Contains("'sandbox-one'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'sandbox-two'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UserIdRangeAndDataCap_BoundFromConfiguration_PerWorker()
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["IpcSupervisor:Workers:ranged:Sandbox:UserIdRange:First"] = "3000000",
            ["IpcSupervisor:Workers:ranged:Sandbox:UserIdRange:Count"] = "100",
            ["IpcSupervisor:Workers:ranged:Sandbox:UserIdRange:GroupId"] = "2999999",
            ["IpcSupervisor:Workers:ranged:Sandbox:MaxDataBytes"] = "805306368",
            ["IpcSupervisor:Workers:ranged:Sandbox:MaxGcHeapBytes"] = "536870912",
            ["IpcSupervisor:Workers:shared:Sandbox:UserIdRange:Count"] = "0",
        });
        builder.AddIpcWorker<SandboxProbeWorker>("ranged");
        builder.AddIpcWorker<SandboxProbeWorker>("shared");
        using IHost host = builder.Build();
        IOptionsMonitor<IpcWorkerOptions> options = host.Services.GetRequiredService<IOptionsMonitor<IpcWorkerOptions>>();

        SandboxOptions ranged = options.Get("ranged").Sandbox;
        Assert.Equal((3_000_000, 100, 2_999_999), (ranged.UserIdRange.First, ranged.UserIdRange.Count, ranged.UserIdRange.EffectiveGroupId));
        Assert.Equal(768L << 20, ranged.MaxDataBytes);
        Assert.False(options.Get("shared").Sandbox.UserIdRange.IsEnabled);
    }
}
