namespace IpcChannel.Supervisor.Parent.Policy;

/// <summary>Where a worker is, as far as the restart rules care.</summary>
internal enum SlotPhase
{
    /// <summary>Its process runs: starting, running, or being stopped.</summary>
    Alive,

    /// <summary>A restart of it is planned and waits for its delay.</summary>
    RestartPending,

    /// <summary>It ended and nothing restarts it on its own (a transient that ended normally, a temporary).</summary>
    Ended,
}

/// <summary>What the planner reads of one worker: its restart type and phase. Its index in the list is its start order.</summary>
/// <param name="Restart">The worker's restart type.</param>
/// <param name="Phase">Where it is now.</param>
internal readonly record struct SlotView(IpcRestartType Restart, SlotPhase Phase);

/// <summary>One worker's end, as the planner needs it.</summary>
/// <param name="Worker">The worker's index (start order).</param>
/// <param name="Abnormal">Crashed (non-zero exit, signal, hang, bad input, failed start) rather than ended normally
/// (exit 0, which includes a graceful stop after an outside SIGTERM).</param>
/// <param name="EndedAt">When its process ended, a timestamp of the planner's <see cref="System.TimeProvider"/>.</param>
internal readonly record struct WorkerEnd(int Worker, bool Abnormal, long EndedAt);
