using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;

namespace IpcChannel.Supervisor.Parent;

/// <summary>How one incarnation ended.</summary>
/// <param name="ExitCode">The exit code (128 + signal when signalled; -1 when it never started).</param>
/// <param name="Reason">Why the supervisor killed it or deemed it failed (hang, bad input, start timeout...), or null.</param>
/// <param name="BySupervisor">Whether the supervisor stopped it on purpose (host stop, restart strategy).</param>
internal sealed record WorkerExit(int ExitCode, string? Reason, bool BySupervisor)
{
    /// <summary>An abnormal exit: non-zero, signalled, or failed for a reason.</summary>
    public bool Abnormal => Reason is not null || ExitCode != 0;

    public string Describe() => Reason ?? (ExitCode == 0 ? "exited normally" : ExitCode > 128 ? $"killed by signal {ExitCode - 128}" : $"exited with code {ExitCode}");
}

/// <summary>What became of a control message given to <see cref="WorkerRun.Post"/>.</summary>
internal enum OutboxPost
{
    /// <summary>Queued: the run's outbox writer sends it, in order.</summary>
    Queued,

    /// <summary>Not queued: the outbox is full, the worker is not reading its control channel.</summary>
    Full,

    /// <summary>Not queued: the run is not connected, or its control channel is closed or the run ended.</summary>
    Closed,
}

/// <summary>
/// One incarnation of a worker: its process, its connection once it said hello, and how it ended.
/// </summary>
/// <remarks>
/// What the supervisor says to the worker on its control channel goes through a small bounded outbox that one writer
/// task per incarnation sends from, readiness-driven (<see cref="IpcSender{T}.SendAsync"/>): a worker that stops
/// reading its control channel fills its socket buffer and then its outbox, and never blocks a supervisor thread, so it
/// never delays another worker's heartbeats, requests or restarts.
/// </remarks>
internal sealed class WorkerRun
{
    /// <summary>How many control messages may wait unsent in a run's outbox (behind what the socket buffer holds);
    /// more means the worker is not reading its control channel.</summary>
    internal const int OutboxCapacity = 256;

    private readonly Channel<ControlDown> _outbox = Channel.CreateBounded<ControlDown>(
        new BoundedChannelOptions(OutboxCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = false, SingleWriter = false });

    private Task? _outboxWriter;
    private int _outboxClosed;
    private readonly TaskCompletionSource<WorkerExit> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _reason;
    private int _bySupervisor;
    private int _down;

    public WorkerRun(WorkerSlot slot, int number, string token)
    {
        Slot = slot;
        Number = number;
        Token = token;
        Scope = new WorkerScope(slot.Name, 0, number);
        LaunchedAt = Stopwatch.GetTimestamp();
    }

    public WorkerSlot Slot { get; }

    public int Number { get; }

    public string Token { get; }

    public WorkerScope Scope { get; }

    public long LaunchedAt { get; }

    /// <summary>When the process ended, a timestamp of the supervisor's <see cref="System.TimeProvider"/> (set before <see cref="Complete"/>).</summary>
    public long EndedAt { get; set; }

    public WorkerProcess? Process { get; set; }

    /// <summary>Writes what the worker logs and prints, confined to its categories and throttled.</summary>
    public WorkerLogRelay? Logs { get; set; }

    /// <summary>The sandbox plan of this incarnation (its private directory is removed after the exit), or null.</summary>
    public IpcChannel.Supervisor.Sandbox.SandboxedLaunch? Sandbox { get; set; }

    /// <summary>The worker's control connection (pings, stop, links), once it said hello.</summary>
    public IpcSender<ControlDown>? Control { get; set; }

    /// <summary>The bootstrap connection (pongs, logs, link senders), once it said hello.</summary>
    public IpcReceiver<ControlUp>? ControlUp { get; set; }

    /// <summary>The typed data connection, once it said hello.</summary>
    public IDisposable? Data { get; set; }

    /// <summary>Ticks of the last pong (or of the hello).</summary>
    public long LastPong;

    public bool Connected => Control is not null;

    public bool BySupervisor => Volatile.Read(ref _bySupervisor) != 0;

    public Task<WorkerExit> Ended => _ended.Task;

    public string? Reason => Volatile.Read(ref _reason);

    /// <summary>Records why it failed; the first reason wins.</summary>
    public void SetReason(string reason) => Interlocked.CompareExchange(ref _reason, reason, null);

    public void MarkBySupervisor() => Volatile.Write(ref _bySupervisor, 1);

    /// <summary>True the first time only: the incarnation is now down for clients.</summary>
    public bool TryMarkDown() => Interlocked.Exchange(ref _down, 1) == 0;

    /// <summary>The outbox writer's task once the first message was posted (it ends when the run's control channel
    /// closes or the run ends), or null.</summary>
    public Task? OutboxWriter => Volatile.Read(ref _outboxWriter);

    /// <summary>
    /// Queues a control message for the worker without blocking; the outbox writer sends it. A message that is not
    /// queued stays the caller's (it disposes the handles the message owns); a queued one is the outbox's: sent, or
    /// disposed when the run ends first.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <returns>Whether it was queued; <see cref="OutboxPost.Full"/> when the worker is not reading its control channel.</returns>
    public OutboxPost Post(ControlDown message)
    {
        if (Control is not { } control || Volatile.Read(ref _outboxClosed) != 0)
        {
            return OutboxPost.Closed;
        }

        if (Volatile.Read(ref _outboxWriter) is null)
        {
            var writer = new Task<Task>(() => WriteOutboxAsync(control));
            if (Interlocked.CompareExchange(ref _outboxWriter, writer.Unwrap(), null) is null)
            {
                writer.Start(TaskScheduler.Default);
            }
        }

        if (_outbox.Writer.TryWrite(message))
        {
            return OutboxPost.Queued;
        }

        return Volatile.Read(ref _outboxClosed) != 0 ? OutboxPost.Closed : OutboxPost.Full;
    }

    /// <summary>Sends the outbox in order until the control channel fails or the run ends; then disposes what is left.</summary>
    private async Task WriteOutboxAsync(IpcSender<ControlDown> control)
    {
        ChannelReader<ControlDown> reader = _outbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out ControlDown? message))
                {
                    try
                    {
                        await control.SendAsync(message).ConfigureAwait(false);
                    }
                    finally
                    {
                        // Sent: the sender moved into the message and this is a no-op. Not sent: it is closed here.
                        message.Sender?.Dispose();
                    }
                }
            }
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException or OperationCanceledException)
        {
            // The control channel closed or the run ended: the control pump or the exit watcher reports it.
        }
        finally
        {
            CloseOutbox();
        }
    }

    /// <summary>No more messages are queued; those still queued are dropped and the handles they own disposed.</summary>
    private void CloseOutbox()
    {
        Volatile.Write(ref _outboxClosed, 1);
        _outbox.Writer.TryComplete();
        while (_outbox.Reader.TryRead(out ControlDown? left))
        {
            left.Sender?.Dispose();
        }
    }

    public void Complete(int exitCode)
    {
        CloseOutbox();
        Control?.Dispose();
        ControlUp?.Dispose();
        Process?.Dispose();
        _ended.TrySetResult(new WorkerExit(exitCode, Reason, BySupervisor));
    }
}
