using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// Host things a worker must not reach, owned by the test process: a listening pathname socket in the temp directory
/// and one in a runtime directory (<c>$XDG_RUNTIME_DIR</c>, or <c>/run</c>), a datagram socket, a marker file, and
/// this process's own .NET diagnostics socket (on by default in a test host); then the same probes in five workers:
/// the default sandbox, the private root alone, seccomp alone, seccomp with <c>AllowUnixConnect</c>, and both off.
/// </summary>
public sealed class PrivateRootRunsFixture : IAsyncLifetime
{
    private readonly string _tmpDirectory = Path.Combine(Path.GetTempPath(), $"ipcchannel-sandbox-host-{Guid.NewGuid():N}");
    private readonly string _runtimeDirectory = Path.Combine(RuntimeBase(), $"ipcchannel-sandbox-host-{Guid.NewGuid():N}");
    private Socket? _tmpListener;
    private Socket? _runtimeListener;
    private Socket? _datagram;

    public WorkerRun Default { get; private set; } = null!;

    public WorkerRun PrivateRootAlone { get; private set; } = null!;

    public WorkerRun SeccompAlone { get; private set; } = null!;

    public WorkerRun UnixConnectAllowed { get; private set; } = null!;

    public WorkerRun BothOff { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_tmpDirectory);
        Directory.CreateDirectory(_runtimeDirectory);
        string marker = Path.Combine(_tmpDirectory, "marker");
        File.WriteAllText(marker, "a file of the host's temp directory");
        _tmpListener = Listen(Path.Combine(_tmpDirectory, "listener"), SocketType.Stream);
        _runtimeListener = Listen(Path.Combine(_runtimeDirectory, "listener"), SocketType.Stream);
        _datagram = Listen(Path.Combine(_tmpDirectory, "datagram"), SocketType.Dgram);

        string[] probes =
        [
            $"unix-connect-tmp@unix-connect:{Path.Combine(_tmpDirectory, "listener")}",
            $"unix-connect-runtime@unix-connect:{Path.Combine(_runtimeDirectory, "listener")}",
            $"unix-sendto:{Path.Combine(_tmpDirectory, "datagram")}",
            $"diagnostics:{DiagnosticsSocket()}",
            $"see-tmp-marker@see-path:{marker}",
            $"see-runtime-dir@see-path:{_runtimeDirectory}",
        ];

        Task<WorkerRun>[] runs =
        [
            SandboxedWorker.RunAsync(SandboxedWorker.Strict(), "probes", probes),
            SandboxedWorker.RunAsync(SandboxedWorker.Strict(o => o.Layers &= ~SandboxLayers.Seccomp), "probes", probes),
            SandboxedWorker.RunAsync(SandboxedWorker.Strict(o => o.Layers &= ~SandboxLayers.PrivateRoot), "probes", probes),
            SandboxedWorker.RunAsync(SandboxedWorker.Strict(o =>
            {
                o.Layers &= ~SandboxLayers.PrivateRoot;
                o.AllowUnixConnect = true;
            }), "probes", probes),
            SandboxedWorker.RunAsync(SandboxedWorker.Strict(o => o.Layers &= ~(SandboxLayers.PrivateRoot | SandboxLayers.Seccomp)), "probes", probes),
        ];
        WorkerRun[] done = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(100));
        foreach (WorkerRun run in done)
        {
            Assert.True(run.ExitCode == 0, run.ToString());
        }

        (Default, PrivateRootAlone, SeccompAlone, UnixConnectAllowed, BothOff) = (done[0], done[1], done[2], done[3], done[4]);
    }

    public Task DisposeAsync()
    {
        _tmpListener?.Dispose();
        _runtimeListener?.Dispose();
        _datagram?.Dispose();
        Directory.Delete(_tmpDirectory, recursive: true);
        Directory.Delete(_runtimeDirectory, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Where per-user runtime sockets live: <c>$XDG_RUNTIME_DIR</c> when it exists, else <c>/run</c>.</summary>
    private static string RuntimeBase() =>
        Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Directory.Exists(runtime) ? runtime : "/run";

    /// <summary>This process's diagnostics socket: <c>dotnet-diagnostic-&lt;pid&gt;-&lt;start ticks&gt;-socket</c> in its temp directory.</summary>
    private static string DiagnosticsSocket()
    {
        string? socket = Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-*-socket").SingleOrDefault();
        return socket ?? throw new InvalidOperationException(
            $"The test process has no diagnostics socket in {Path.GetTempPath()}: these tests need the .NET default DOTNET_EnableDiagnostics=1 in the test host.");
    }

    private static Socket Listen(string path, SocketType type)
    {
        var socket = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        if (type == SocketType.Stream)
        {
            socket.Listen(64);
        }

        return socket;
    }
}
