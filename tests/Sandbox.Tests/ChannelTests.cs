using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Sandbox.TestWorker;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// What the sandbox must not break: the worker connects back to an IpcOneShotServer of its supervisor and does a
/// typed round trip carrying a new channel and shared memory each way (AF_UNIX SEQPACKET, SCM_RIGHTS, memfd, epoll).
/// </summary>
public sealed class ChannelTests
{
    [Fact(Timeout = 120_000)]
    public Task TypedRoundTripWithChannelAndSharedMemory_Sandboxed_Works() => RoundTripAsync(SandboxedWorker.Strict());

    [Fact(Timeout = 120_000)]
    public Task TypedRoundTripWithChannelAndSharedMemory_SandboxOff_Works() => RoundTripAsync(SandboxedWorker.Off());

    private static async Task RoundTripAsync(SandboxOptions options)
    {
        using var server = new IpcOneShotServer<WorkerHello>();
        Task<WorkerRun> worker = SandboxedWorker.RunAsync(
            options,
            "channel",
            environment: new Dictionary<string, string> { ["SANDBOX_TEST_SERVER"] = server.Name },
            serverVariable: "SANDBOX_TEST_SERVER");

        Task<(IpcReceiver<WorkerHello> Receiver, WorkerHello FirstMessage)> accept = server.AcceptAsync();
        Task first = await Task.WhenAny(accept, worker).WaitAsync(TimeSpan.FromSeconds(60));
        if (first == worker)
        {
            Assert.Fail($"the worker exited before connecting: {await worker}");
        }

        (IpcReceiver<WorkerHello> receiver, WorkerHello hello) = await accept;
        using (receiver)
        using (IpcSender<TestReply> inbox = hello.Inbox)
        using (IpcSharedMemory theirs = hello.Blob)
        {
            Assert.Equal(1 << 20, theirs.Length);
            Assert.True(theirs.Span.IndexOfAnyExcept((byte)42) < 0);
            using var mine = IpcSharedMemory.FromByte(7, 4096);
            inbox.Send(new TestReply("hello from the supervisor", mine));
        }

        WorkerRun run = await worker.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(options.Enabled, run.Output.Contains("sandboxed=True", StringComparison.Ordinal));
        Assert.Equal("text='hello from the supervisor' blob=4096 sum=28672", run.Lines("CHANNEL").Single());
        Assert.Equal(options.Enabled ? "from-stage-1" : "by-name", run.Lines("CONNECTION").Single());
    }
}
