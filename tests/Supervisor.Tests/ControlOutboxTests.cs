using System;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Parent;
using IpcChannel.Supervisor.Protocol;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// A worker's control outbox, on a real channel whose receiving end is never read (a worker that stopped reading its
/// control channel, e.g. by swapping the socket out with dup2, while it keeps answering heartbeats).
/// </summary>
public sealed class ControlOutboxTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private static WorkerRun NewRun(IpcSender<ControlDown> control) =>
        new(new WorkerSlot<string, string>("w", 0, typeof(object), new IpcWorkerOptions()), 1, "token") { Control = control };

    private static ControlDown Filler(int i) => new() { Kind = ControlDownKind.LinkRequest, LinkName = $"link-{i}-" + new string('x', 1000) };

    /// <summary>Posting never blocks: against a worker that reads nothing, the posts return at once until the outbox is
    /// full (the supervisor then kills the worker), and when the run ends the handles of queued messages are closed.</summary>
    [Fact]
    public async Task Post_ToAWorkerThatReadsNothing_NeverBlocks_ThenIsFull_AndTheRunsEndClosesQueuedHandles()
    {
        var (sender, receiver) = Ipc.Channel<ControlDown>(ProtocolResolver.Options);
        using IpcReceiver<ControlDown> unread = receiver;
        WorkerRun run = NewRun(sender);

        // Far more than the socket buffer and the outbox hold: with a blocking send this loop would hang (see the twin).
        var watch = Stopwatch.StartNew();
        OutboxPost last = OutboxPost.Queued;
        int posted = 0;
        while (last == OutboxPost.Queued && posted < 1_000_000)
        {
            last = run.Post(Filler(posted++));
        }

        Assert.Equal(OutboxPost.Full, last);
        Assert.True(watch.Elapsed < Generous, $"posting took {watch.Elapsed}");

        // Make room for one more message: read a few, until the writer has taken one from the outbox. The socket is
        // full again behind what the writer sent, so the link sender posted now waits in the outbox.
        var (linkSender, linkReceiver) = Ipc.Channel<int>();
        using IpcReceiver<int> link = linkReceiver;
        OpaqueIpcSender handle = linkSender.ToOpaque();
        var handleMessage = new ControlDown { Kind = ControlDownKind.LinkSender, LinkName = "l", Sender = handle };
        watch.Restart();
        while (run.Post(handleMessage) != OutboxPost.Queued)
        {
            Assert.True(watch.Elapsed < Generous, "the outbox never took one more message");
            using CancellationTokenSource timeout = new(Generous);
            _ = await unread.ReceiveAsync(timeout.Token);
        }

        // The run ends (the worker was killed): the outbox writer stops and the queued sender is closed, not leaked;
        // had it been sent, it would sit open in the control socket's queue and the link would not close.
        run.Complete(137);
        using CancellationTokenSource closed = new(Generous);
        await Assert.ThrowsAnyAsync<IpcException>(async () => await link.ReceiveAsync(closed.Token));
        Assert.Equal(OutboxPost.Closed, run.Post(Filler(0)));
        Assert.NotNull(run.OutboxWriter);
        await run.OutboxWriter!.WaitAsync(Generous);
    }

    /// <summary>The supervisor's send: it returns at once whatever the worker does, and a worker whose outbox filled
    /// up is killed (marked down, its reason recorded and logged), so the caller (a sibling's control pump, the restart
    /// loop) goes on.</summary>
    [Fact]
    public void SupervisorSend_ToAWorkerThatReadsNothing_NeverBlocks_AndKillsItWithTheReason()
    {
        using var capture = new CapturingLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        using var meters = new Meters();
        var supervisor = new IpcSupervisor([], [], Options.Create(new IpcSupervisorOptions()), null!, [], loggers, meters, null!);
        var (sender, receiver) = Ipc.Channel<ControlDown>(ProtocolResolver.Options);
        using IpcReceiver<ControlDown> unread = receiver;
        WorkerRun run = NewRun(sender);

        var watch = Stopwatch.StartNew();
        int sent = 0;
        while (sent < 1_000_000 && supervisor.TrySend(run, Filler(sent)))
        {
            sent++;
        }

        Assert.True(watch.Elapsed < Generous, $"sending took {watch.Elapsed}");
        Assert.True(sent < 1_000_000, "the outbox never filled");
        Assert.Equal(IpcSupervisor.OutboxFullReason, run.Reason);
        Assert.False(run.TryMarkDown());
        Assert.Contains(capture.Entries, e => e.Message.Contains(IpcSupervisor.OutboxFullReason, StringComparison.Ordinal));
        run.Complete(137);
    }

    private sealed class Meters : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }

    /// <summary>The twin: the blocking send the supervisor used before the outbox hangs on the same channel, so the
    /// thread that calls it (a sibling's control pump, the restart loop) is stuck until the worker dies.</summary>
    [Fact]
    public async Task BlockingSend_ToAWorkerThatReadsNothing_Hangs()
    {
        var (sender, receiver) = Ipc.Channel<ControlDown>(ProtocolResolver.Options);
        using IpcSender<ControlDown> control = sender;
        Task blocked = Task.Factory.StartNew(
            () =>
            {
                for (int i = 0; i < 1_000_000; i++)
                {
                    control.Send(Filler(i));
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // The same number of messages posts at once above; here the sends do not finish while the worker reads nothing.
        Task first = await Task.WhenAny(blocked, Task.Delay(TimeSpan.FromSeconds(3)));
        Assert.NotSame(blocked, first);

        // The worker dies: the blocked send fails and the thread is free again.
        receiver.Dispose();
        Exception? failed = await Record.ExceptionAsync(() => blocked.WaitAsync(Generous));
        Assert.IsAssignableFrom<IpcException>(failed);
    }
}
