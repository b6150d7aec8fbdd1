using System;
using System.Collections.Generic;

namespace IpcChannel.Supervisor.Parent.Policy;

/// <summary>
/// What the supervisor does about one worker's end: stop <see cref="Stop"/> one after the other, mark
/// <see cref="Finished"/> as stopped for good, then after <see cref="Delay"/> start <see cref="Start"/> one after the
/// other; or, when <see cref="GiveUp"/>, stop <see cref="Stop"/> (every worker still alive) and fail the host.
/// </summary>
/// <param name="Stop">Workers to stop, in stop order (reverse start order).</param>
/// <param name="Start">Workers to start, in start order; empty when nothing is restarted.</param>
/// <param name="Finished">Workers that end for good: the one that ended when its restart type does not restart it,
/// and temporary siblings the strategy stops.</param>
/// <param name="Delay">The backoff before <see cref="Start"/>, this group's own: other workers' decisions do not wait for it.</param>
/// <param name="GiveUp">The restart intensity is exhausted: the supervisor gives up.</param>
internal sealed record RestartPlan(IReadOnlyList<int> Stop, IReadOnlyList<int> Start, IReadOnlyList<int> Finished, TimeSpan Delay, bool GiveUp)
{
    /// <summary>The ended worker is not restarted and nothing else changes.</summary>
    public static RestartPlan Finish(int worker) => new([], [], [worker], TimeSpan.Zero, GiveUp: false);
}
