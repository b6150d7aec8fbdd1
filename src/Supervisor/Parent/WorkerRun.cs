using System;
using System.Diagnostics;
using System.Threading;
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

/// <summary>
/// One incarnation of a worker: its process, its connection once it said hello, and how it ended.
/// </summary>
internal sealed class WorkerRun
{
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

    public void Complete(int exitCode)
    {
        Control?.Dispose();
        ControlUp?.Dispose();
        Process?.Dispose();
        _ended.TrySetResult(new WorkerExit(exitCode, Reason, BySupervisor));
    }
}
