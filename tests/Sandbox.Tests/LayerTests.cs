using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;
using Xunit.Abstractions;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// Each layer alone, in a real worker: what it stops by itself and with which error, so that the defence in depth
/// of the full sandbox is known layer by layer (docs/sandbox.md has the table).
/// </summary>
public sealed class LayerTests(ITestOutputHelper output) : IDisposable
{
    private readonly ProbeTargets _targets = new();

    [Fact(Timeout = 120_000)]
    public async Task LandlockAlone_DeniesFilesTcpSignalsAbstractSocketsPtraceAndExec()
    {
        WorkerRun run = await RunAsync(SandboxLayers.NoNewPrivileges | SandboxLayers.Landlock);
        output.WriteLine(run.ToString());

        run.AssertEverywhere("write-outside", o => o.Contains("UnauthorizedAccessException", StringComparison.Ordinal), "EACCES");
        run.AssertEverywhere("read-outside", o => o.Contains("UnauthorizedAccessException", StringComparison.Ordinal), "EACCES even as root");
        run.AssertEverywhere("tcp-connect", o => o == "denied connect errno=13", "connect EACCES (LANDLOCK_ACCESS_NET_CONNECT_TCP)");
        run.AssertEverywhere("tcp-bind", o => o == "denied bind errno=13", "bind EACCES (LANDLOCK_ACCESS_NET_BIND_TCP)");
        run.AssertEverywhere("signal", o => o == "denied errno=1", "EPERM (LANDLOCK_SCOPE_SIGNAL)");
        run.AssertEverywhere("abstract-connect", o => o == "denied connect errno=1", "EPERM (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET)");
        run.AssertEverywhere("ptrace", o => o == "denied errno=1", "EPERM (Landlock forbids tracing outside the domain)");
        run.AssertEverywhere("vm-read", o => o == "denied errno=1", "EPERM (same ptrace check)");
        run.AssertEverywhere("exec", o => o.StartsWith("denied errno=13", StringComparison.Ordinal), "EACCES (no LANDLOCK_ACCESS_FS_EXECUTE)");
        run.AssertEverywhere("write-own", o => o == "allowed", "allowed");
        run.AssertEverywhere("fd-passing", o => o == "allowed", "allowed");
    }

    [Fact(Timeout = 120_000)]
    public async Task SeccompAlone_DeniesSocketsConnectExecAndPtraceWithEperm()
    {
        WorkerRun run = await RunAsync(SandboxLayers.NoNewPrivileges | SandboxLayers.Seccomp);
        output.WriteLine(run.ToString());

        run.AssertEverywhere("tcp-connect", o => o == "denied socket errno=1", "socket(AF_INET) EPERM");
        run.AssertEverywhere("tcp-bind", o => o == "denied socket errno=1", "socket(AF_INET) EPERM");
        run.AssertEverywhere("ptrace", o => o == "denied errno=1", "EPERM");
        run.AssertEverywhere("vm-read", o => o == "denied errno=1", "EPERM");
        run.AssertEverywhere("exec", o => o.StartsWith("denied errno=1 ", StringComparison.Ordinal), "execve EPERM");

        // What seccomp alone leaves to the other layers.
        run.AssertEverywhere("write-outside", o => o == "allowed", "allowed (files are Landlock's)");
        run.AssertEverywhere("read-outside", o => o == "allowed", "allowed (files are Landlock's)");
        run.AssertEverywhere("abstract-connect", o => o == "denied connect errno=1", "connect EPERM (a sandboxed worker never connects)");
        run.AssertEverywhere("fd-passing", o => o == "allowed", "allowed");
    }

    [Fact(Timeout = 120_000)]
    public async Task NamespacesAlone_GiveReadOnlyFilesystemNoNetworkAndNoParentPid()
    {
        WorkerRun run = await RunAsync(SandboxLayers.Namespaces);
        output.WriteLine(run.ToString());

        run.AssertEverywhere("write-outside", o => o.Contains("Read-only file system", StringComparison.Ordinal), "EROFS (read-only mount view)");
        run.AssertEverywhere("write-own", o => o == "allowed", "allowed (the worker directory stays writable)");
        run.AssertEverywhere("tcp-connect", o => o == "denied connect errno=101", "ENETUNREACH (empty network namespace)");
        run.AssertEverywhere("abstract-connect", o => o == "denied connect errno=111", "ECONNREFUSED (abstract names are per network namespace)");
        run.AssertEverywhere("signal", o => o == "denied errno=3", "ESRCH (the parent is outside the PID namespace)");
        run.AssertEverywhere("ptrace", o => o == "denied errno=3", "ESRCH");
        run.AssertEverywhere("fd-passing", o => o == "allowed", "allowed");

        // What namespaces alone leave to the other layers: the mapped root still owns root's files.
        run.AssertEverywhere("read-outside", o => o == "allowed", "allowed (files are Landlock's)");
    }

    public void Dispose() => _targets.Dispose();

    private async Task<WorkerRun> RunAsync(SandboxLayers layers)
    {
        WorkerRun run = await SandboxedWorker.RunAsync(SandboxedWorker.Strict(o => o.Layers = layers), "probes", _targets.AllProbes());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"layers={(int)layers}", run.Output, StringComparison.Ordinal);
        return run;
    }
}
