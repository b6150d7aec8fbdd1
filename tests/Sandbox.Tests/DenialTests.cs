using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// Each forbidden thing, tried from inside a real worker under the default sandbox, on its main thread, on a thread
/// started before the seccomp filter went in, on a new thread and on a thread-pool thread: denied everywhere. The same
/// probe in a worker with the sandbox off succeeds everywhere, so each test is known to be able to fail.
/// </summary>
public sealed class DenialTests(ProbeRunsFixture runs) : IClassFixture<ProbeRunsFixture>
{
    [Fact(Timeout = 120_000)]
    public Task WriteOutsideWorkerDirectory_Sandboxed_IsDeniedOnEveryThread() => AssertDenied("write-outside");

    [Fact(Timeout = 120_000)]
    public Task WriteOutsideWorkerDirectory_SandboxOff_Succeeds() => AssertAllowed("write-outside");

    [Fact(Timeout = 120_000)]
    public Task ReadFileOutsideAllowedSet_SandboxedAsRoot_IsDeniedOnEveryThread() => AssertDenied("read-outside");

    [Fact(Timeout = 120_000)]
    public Task ReadFileOutsideAllowedSet_SandboxOff_Succeeds() => AssertAllowed("read-outside");

    [Fact(Timeout = 120_000)]
    public Task TcpConnectToLoopbackListener_Sandboxed_IsDeniedOnEveryThread() => AssertDenied("tcp-connect");

    [Fact(Timeout = 120_000)]
    public Task TcpConnectToLoopbackListener_SandboxOff_Succeeds() => AssertAllowed("tcp-connect");

    [Fact(Timeout = 120_000)]
    public Task TcpBind_Sandboxed_IsDeniedOnEveryThread() => AssertDenied("tcp-bind");

    [Fact(Timeout = 120_000)]
    public Task TcpBind_SandboxOff_Succeeds() => AssertAllowed("tcp-bind");

    [Fact(Timeout = 120_000)]
    public Task PtraceParent_Sandboxed_IsDeniedOnEveryThread() => AssertDenied("ptrace");

    [Fact(Timeout = 120_000)]
    public Task PtraceParent_SandboxOff_Succeeds() => AssertAllowed("ptrace");

    [Fact(Timeout = 120_000)]
    public Task ProcessVmReadvOfParent_Sandboxed_IsDeniedOnEveryThread() => AssertDenied("vm-read");

    [Fact(Timeout = 120_000)]
    public Task ProcessVmReadvOfParent_SandboxOff_ReadsTheParentsBytes() => AssertAllowed("vm-read");

    [Fact(Timeout = 120_000)]
    public Task ExecBinSh_Sandboxed_IsDeniedOnEveryThread() => AssertDenied("exec");

    [Fact(Timeout = 120_000)]
    public Task ExecBinSh_SandboxOff_Succeeds() => AssertAllowed("exec");

    [Fact(Timeout = 120_000)]
    public Task SignalParent_Sandboxed_IsDeniedOnEveryThread() => AssertDenied("signal");

    [Fact(Timeout = 120_000)]
    public Task SignalParent_SandboxOff_Succeeds() => AssertAllowed("signal");

    [Fact(Timeout = 120_000)]
    public Task ConnectToAbstractUnixSocketOutside_Sandboxed_IsDeniedOnEveryThread() => AssertDenied("abstract-connect");

    [Fact(Timeout = 120_000)]
    public Task ConnectToAbstractUnixSocketOutside_SandboxOff_Succeeds() => AssertAllowed("abstract-connect");

    [Fact(Timeout = 120_000)]
    public Task WriteInOwnWorkerDirectory_Sandboxed_SucceedsOnEveryThread() => AssertAllowed("write-own", sandboxed: true);

    [Fact(Timeout = 120_000)]
    public Task SocketPairScmRightsAndMemfdMapping_Sandboxed_WorkOnEveryThread() => AssertAllowed("fd-passing", sandboxed: true);

    [Fact(Timeout = 120_000)]
    public Task SocketPairScmRightsAndMemfdMapping_SandboxOff_WorkOnEveryThread() => AssertAllowed("fd-passing");

    private Task AssertDenied(string probe)
    {
        WorkerRun run = runs.Sandboxed;
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("sandboxed=True", run.Output, StringComparison.Ordinal);
        IReadOnlyDictionary<string, string> results = run.Results(probe);
        foreach (string context in WorkerRun.Contexts)
        {
            Assert.True(results.TryGetValue(context, out string? outcome), $"no result for {probe} on {context}\n{run}");
            Assert.True(outcome.StartsWith("denied", StringComparison.Ordinal), $"{probe} on {context}: {outcome}\n{run}");
        }

        return Task.CompletedTask;
    }

    private Task AssertAllowed(string probe, bool sandboxed = false)
    {
        WorkerRun run = sandboxed ? runs.Sandboxed : runs.SandboxOff;
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"sandboxed={sandboxed}", run.Output, StringComparison.Ordinal);
        IReadOnlyDictionary<string, string> results = run.Results(probe);
        foreach (string context in WorkerRun.Contexts)
        {
            Assert.True(results.TryGetValue(context, out string? outcome), $"no result for {probe} on {context}\n{run}");
            Assert.True(outcome == "allowed", $"{probe} on {context}: {outcome}\n{run}");
        }

        return Task.CompletedTask;
    }
}
