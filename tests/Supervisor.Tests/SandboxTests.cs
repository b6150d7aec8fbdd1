using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Sandbox;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using IpcChannel.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// The sandbox as AddIpcWorker applies it by default, proven from inside supervised workers (each attempt made on a
/// thread-pool thread and on a new thread). Every denial has its twin: the same worker with the sandbox turned off
/// does the thing, so each test is known to be able to fail.
/// </summary>
public class SandboxTests
{
    /// <summary>Adds a SandboxProbeWorker with the default sandbox (or none), launched from the test host app.</summary>
    private static SupervisedHost Create(bool sandboxed, Action<IpcWorkerOptions>? configure = null) =>
        SupervisedHost.Create(b => b.AddIpcWorker<SandboxProbeWorker>("sandbox-probe", o =>
        {
            SupervisedHost.UseTestLaunch(o, TestPaths.Apphost);
            o.UnavailableTimeout = TimeSpan.FromSeconds(60);
            o.RequestTimeout = TimeSpan.FromSeconds(60);
            o.Sandbox.Enabled = sandboxed;
            configure?.Invoke(o);
        }));

    private static IpcWorkerClient<SandboxProbe, SandboxReport> Client(SupervisedHost host) =>
        host.Host.Services.GetRequiredKeyedService<IpcWorkerClient<SandboxProbe, SandboxReport>>("sandbox-probe");

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EveryThread_HasSeccompAndNoNewPrivs_OnlyWhenSandboxed(bool sandboxed)
    {
        await using SupervisedHost host = Create(sandboxed);
        await host.StartAsync();

        SandboxReport report = await Client(host).RequestAsync(new SandboxProbe("status"));

        Assert.True(sandboxed == report.PoolAllowed, report.PoolDetail);
        Assert.True(sandboxed == report.ThreadAllowed, report.ThreadDetail);
        Assert.Contains(sandboxed ? "Seccomp=[2] NoNewPrivs=[1]" : "Seccomp=[0] NoNewPrivs=[0]", report.PoolDetail);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WriteOutsideItsDirectory_DeniedOnlyWhenSandboxed(bool sandboxed)
    {
        string outside = Directory.CreateTempSubdirectory("ipc-sandbox-outside-").FullName;
        try
        {
            await using SupervisedHost host = Create(sandboxed);
            await host.StartAsync();

            SandboxReport report = await Client(host).RequestAsync(new SandboxProbe("write", Path.Combine(outside, "file")));

            Assert.True(sandboxed != report.PoolAllowed, report.PoolDetail);
            Assert.True(sandboxed != report.ThreadAllowed, report.ThreadDetail);
            Assert.Equal(sandboxed ? 0 : 2, Directory.GetFiles(outside).Length);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TcpConnectToALocalListener_DeniedOnlyWhenSandboxed(bool sandboxed)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using SupervisedHost host = Create(sandboxed);
        await host.StartAsync();

        SandboxReport report = await Client(host).RequestAsync(new SandboxProbe("connect", Number: port));

        Assert.True(sandboxed != report.PoolAllowed, report.PoolDetail);
        Assert.True(sandboxed != report.ThreadAllowed, report.ThreadDetail);
    }

    /// <summary>
    /// The supervisor's own .NET diagnostics socket (this test process's, in its temp directory): whoever connects can
    /// read its environment and make it load a library. A sandboxed worker neither sees the path nor may connect.
    /// </summary>
    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectToTheSupervisorsDiagnosticsSocket_DeniedOnlyWhenSandboxed(bool sandboxed)
    {
        string socket = Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-*-socket").SingleOrDefault()
            ?? throw new InvalidOperationException($"The test process has no diagnostics socket in {Path.GetTempPath()}: this test needs the .NET default DOTNET_EnableDiagnostics=1.");
        await using SupervisedHost host = Create(sandboxed);
        await host.StartAsync();

        SandboxReport report = await Client(host).RequestAsync(new SandboxProbe("unix-connect", Text: socket));

        Assert.True(sandboxed != report.PoolAllowed, report.PoolDetail);
        Assert.True(sandboxed != report.ThreadAllowed, report.ThreadDetail);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ExecBinSh_DeniedOnlyWhenSandboxed(bool sandboxed)
    {
        await using SupervisedHost host = Create(sandboxed);
        await host.StartAsync();

        SandboxReport report = await Client(host).RequestAsync(new SandboxProbe("exec"));

        Assert.True(sandboxed != report.PoolAllowed, report.PoolDetail);
        Assert.True(sandboxed != report.ThreadAllowed, report.ThreadDetail);
    }

    [Fact(Timeout = 120_000)]
    public async Task SandboxedWorker_TypedChannelsFdPassingAndSharedMemoryWork()
    {
        await using SupervisedHost host = Create(sandboxed: true);
        await host.StartAsync();
        IpcWorkerClient<SandboxProbe, SandboxReport> client = Client(host);
        Assert.True((await client.RequestAsync(new SandboxProbe("status"))).PoolAllowed);
        (IpcSender<string> sender, IpcReceiver<string> receiver) = Ipc.Channel<string>();
        using IpcReceiver<string> replies = receiver;

        // A sender and shared memory travel to the worker inside the request; shared memory comes back in the answer.
        SandboxReport report = await client.RequestAsync(new SandboxProbe("channels", Memory: IpcSharedMemory.FromByte(3, 1 << 20), ReplyTo: sender));

        Assert.Equal($"sum {3L << 20}", report.PoolDetail);
        Assert.Equal($"sum {3L << 20} from a worker", await replies.ReceiveAsync().WithTimeout());
        using IpcSharedMemory memory = report.Memory!;
        Assert.Equal(1 << 20, memory.Length);
        Assert.True(memory.Span.IndexOfAnyExcept((byte)7) < 0);
    }

    [Theory(Timeout = 180_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AllocatingPastTheMemoryCap_KillsTheWorker_WhichIsRestartedAndServes(bool sandboxed)
    {
        await using SupervisedHost host = Create(sandboxed, o => o.Sandbox.MaxGcHeapBytes = 128L << 20);
        await host.StartAsync();
        IpcWorkerClient<SandboxProbe, SandboxReport> client = Client(host);

        if (sandboxed)
        {
            await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => client.RequestAsync(new SandboxProbe("alloc", Number: 512)));
            LogEntry ended = await host.WaitForExitAsync("sandbox-probe", 1);
            Assert.Contains("restart: True", ended.Message);
            await host.WaitForStartAsync("sandbox-probe", 2);
            Assert.True((await client.RequestAsync(new SandboxProbe("status"))).PoolAllowed);
            Assert.Equal(1, client.Status.Restarts);
        }
        else
        {
            // The twin: without the sandbox there is no cap, the same allocation succeeds in the same incarnation.
            SandboxReport report = await client.RequestAsync(new SandboxProbe("alloc", Number: 512));
            Assert.Equal("allocated 512 MiB", report.PoolDetail);
            Assert.Equal(1, client.Status.Incarnation);
            Assert.Equal(0, client.Status.Restarts);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task PoisonInput_CrashesTheSandboxedWorker_WhichIsRestartedAndServes()
    {
        await using SupervisedHost host = Create(sandboxed: true);
        await host.StartAsync();
        IpcWorkerClient<SandboxProbe, SandboxReport> client = Client(host);

        await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => client.RequestAsync(new SandboxProbe("failfast")));

        await host.WaitForStartAsync("sandbox-probe", 2);
        SandboxReport report = await client.RequestAsync(new SandboxProbe("status"));
        Assert.True(report.PoolAllowed, report.PoolDetail);
        Assert.Equal(2, client.Status.Incarnation);
    }

    [Fact(Timeout = 60_000)]
    public async Task MissingLayer_RefusesToStartTheHost_NamingTheLayer()
    {
        // This machine delegates no cgroup v2 memory controller, so the MemoryCgroup layer is really missing here.
        await using SupervisedHost host = Create(sandboxed: true, RequireMemoryCgroup);

        IpcWorkerException error = await Assert.ThrowsAsync<IpcWorkerException>(() => host.Host.StartAsync().WithTimeout(TimeSpan.FromSeconds(50)));

        Assert.Equal("sandbox-probe", error.WorkerName);
        Assert.Contains("MemoryCgroup", error.Message);
        Assert.Equal(SandboxLayers.MemoryCgroup, Assert.IsType<SandboxException>(error.InnerException).Layer);
    }

    [Fact(Timeout = 180_000)]
    public async Task MissingLayer_AllowedToBeMissing_StartsAndWarnsAtEveryStart()
    {
        await using SupervisedHost host = Create(sandboxed: true, o =>
        {
            RequireMemoryCgroup(o);
            o.Sandbox.AllowMissing |= SandboxLayers.MemoryCgroup;
        });
        await host.StartAsync();
        IpcWorkerClient<SandboxProbe, SandboxReport> client = Client(host);
        Assert.True((await client.RequestAsync(new SandboxProbe("status"))).PoolAllowed);

        ProcessWatch.Signal(client.Status.Pid, 9);
        await host.WaitForStartAsync("sandbox-probe", 2);

        // (Where workers cannot have users of their own — not root, a checkout others cannot read — a second warning
        // per start says so; only the missing layer's are counted.)
        LogEntry[] warnings = host.Logs.Entries.Where(e => e.EventId == 8001 && e.Message.Contains("without sandbox layer MemoryCgroup", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, warnings.Length);
        Assert.Equal([1, 2], warnings.Select(w => (int)w.Scope["WorkerIncarnation"]!));
    }

    [Fact(Timeout = 60_000)]
    public async Task BadSandboxOptions_FailHostStart_NamingTheWorkerAndOption()
    {
        await using SupervisedHost host = Create(sandboxed: true, o => o.Sandbox.ReadOnlyPaths.Add("relative/path"));

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Host.StartAsync());

        Assert.Contains("'sandbox-probe'", error.Message);
        Assert.Contains("Sandbox: ReadOnlyPaths", error.Message);
    }

    [Fact]
    public void SandboxOptions_BoundFromConfiguration_PerWorker()
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["IpcSupervisor:Workers:loose:Sandbox:Layers"] = "CleanStart, ResourceLimits, NoNewPrivileges, Seccomp",
            ["IpcSupervisor:Workers:loose:Sandbox:MaxGcHeapBytes"] = "268435456",
            ["IpcSupervisor:Workers:loose:Sandbox:ReadOnlyPaths:0"] = "/etc", // validated: it must exist on every machine
            ["IpcSupervisor:Workers:loose:Sandbox:MaxDiskBytes"] = "1073741824",
            ["IpcSupervisor:Workers:loose:Sandbox:AllowUnixConnect"] = "true",
            ["IpcSupervisor:Workers:off:Sandbox:Enabled"] = "false",
        });
        builder.AddIpcWorker<SandboxProbeWorker>("loose");
        builder.AddIpcWorker<SandboxProbeWorker>("off");
        builder.AddIpcWorker<SandboxProbeWorker>("strict");
        using IHost host = builder.Build();
        IOptionsMonitor<IpcWorkerOptions> options = host.Services.GetRequiredService<IOptionsMonitor<IpcWorkerOptions>>();

        SandboxOptions loose = options.Get("loose").Sandbox;
        Assert.Equal(SandboxLayers.CleanStart | SandboxLayers.ResourceLimits | SandboxLayers.NoNewPrivileges | SandboxLayers.Seccomp, loose.Layers);
        Assert.Equal(256L << 20, loose.MaxGcHeapBytes);
        Assert.Equal(["/etc"], loose.ReadOnlyPaths);
        Assert.Equal(1L << 30, loose.MaxDiskBytes);
        Assert.True(loose.AllowUnixConnect);
        Assert.False(options.Get("off").Sandbox.Enabled);
        SandboxOptions strict = options.Get("strict").Sandbox;
        Assert.True(strict.Enabled);
        Assert.Equal(SandboxLayers.Default, strict.Layers);
    }

    private static void RequireMemoryCgroup(IpcWorkerOptions o)
    {
        o.Sandbox.Layers |= SandboxLayers.MemoryCgroup;
        o.Sandbox.MemoryCgroupParent = "/sys/fs/cgroup/ipcchannel-tests-not-delegated";
    }

    [Fact(Timeout = 120_000)]
    public async Task StaleWorkerDirectories_OfSupervisorsThatDied_AreRemoved_ALiveOnesAreKept()
    {
        string root = Path.Combine(Directory.CreateTempSubdirectory("ipc-sandbox-root-").FullName, "workers");
        Directory.CreateDirectory(root); // 0755 under the usual umask: only this user writes it, as the sandbox requires
        try
        {
            // A supervisor killed with SIGKILL: its lock file is there, nobody holds it.
            string deadLocked = Path.Combine(root, "12345-0A0B0C-decoder-3");
            Directory.CreateDirectory(Path.Combine(deadLocked, "sub"));
            File.WriteAllText(Path.Combine(deadLocked, "sub", "file"), "x");
            File.WriteAllText(Path.Combine(root, "12345-0A0B0C.lock"), "");

            // One from before lock files, whose process is gone (beyond any pid_max).
            string deadOld = Path.Combine(root, "99999999-ABCDEF-decoder-1");
            Directory.CreateDirectory(deadOld);

            // A running supervisor (this test holds its lock), and something that is not a worker directory.
            string live = Path.Combine(root, $"{Environment.ProcessId}-FEDCBA-decoder-1");
            Directory.CreateDirectory(live);
            string unrelated = Path.Combine(root, "not-a-worker");
            Directory.CreateDirectory(unrelated);
            using var held = new FileStream(Path.Combine(root, $"{Environment.ProcessId}-FEDCBA.lock"), FileMode.Create, FileAccess.ReadWrite, FileShare.None);

            await using (SupervisedHost host = Create(sandboxed: true, o => o.Sandbox.WorkerDirectoryRoot = root))
            {
                await host.StartAsync();
                SandboxReport report = await Client(host).RequestAsync(new SandboxProbe("status"));
                Assert.True(report.PoolAllowed, report.PoolDetail); // the worker runs sandboxed in the swept root

                Assert.False(Directory.Exists(deadLocked), "a dead supervisor's directory (lock not held) is removed");
                Assert.False(File.Exists(Path.Combine(root, "12345-0A0B0C.lock")), "and its lock file");
                Assert.False(Directory.Exists(deadOld), "a directory of a process that is gone is removed");
                Assert.True(Directory.Exists(live), "a live supervisor's directory is kept");
                Assert.True(Directory.Exists(unrelated), "a directory that is not a worker's is kept");
                Assert.Single(Directory.GetFiles(root, "*.lock"), f => !f.EndsWith("-FEDCBA.lock", StringComparison.Ordinal));
                Assert.Contains(host.Logs.Entries, e => e.EventId == 7022);
            }

            Assert.Equal([Path.Combine(root, $"{Environment.ProcessId}-FEDCBA.lock")], Directory.GetFiles(root, "*.lock"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(root)!, recursive: true);
        }
    }
}
