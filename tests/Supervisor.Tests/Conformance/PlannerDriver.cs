using System;
using System.Collections.Generic;
using System.Linq;
using IpcChannel.Supervisor.Parent.Policy;
using Microsoft.Extensions.Time.Testing;

namespace IpcChannel.Supervisor.Tests.Conformance;

/// <summary>
/// Drives a <see cref="RestartPlanner"/> the way the supervisor does, on a <see cref="FakeTimeProvider"/>: workers come
/// up, end, and plans are carried out (stops, finished workers, a delay, starts), each step taking the simulated time
/// it is given. Every restart rule is checked in milliseconds, without processes.
/// </summary>
internal sealed class PlannerDriver
{
    private readonly SlotView[] _slots;

    public PlannerDriver(IpcRestartType[] types, Action<IpcSupervisorOptions>? configure = null, int seed = 1)
    {
        Options = new IpcSupervisorOptions { BackoffJitter = 0 };
        configure?.Invoke(Options);
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Planner = new RestartPlanner(Options, types.Length, Time, new Random(seed));
        _slots = types.Select(t => new SlotView(t, SlotPhase.Alive)).ToArray();
        for (int i = 0; i < types.Length; i++)
        {
            Planner.OnUp(i);
        }
    }

    public IpcSupervisorOptions Options { get; }

    public FakeTimeProvider Time { get; }

    public RestartPlanner Planner { get; }

    /// <summary>How long a simulated launch takes, up to the hello.</summary>
    public TimeSpan Launch { get; set; } = TimeSpan.FromMilliseconds(200);

    public IReadOnlyList<SlotView> Slots => _slots;

    public SlotPhase Phase(int worker) => _slots[worker].Phase;

    /// <summary>Worker <paramref name="worker"/> ends now; the plan is returned, not carried out.</summary>
    public RestartPlan End(int worker, bool abnormal = true) =>
        Planner.OnExit(new WorkerEnd(worker, abnormal, Time.GetTimestamp()), _slots);

    /// <summary>Carries a plan out as the supervisor does: the stops and finished workers at once, the starts after the
    /// delay, each launch taking <see cref="Launch"/>.</summary>
    public void Apply(RestartPlan plan)
    {
        foreach (int i in plan.Finished)
        {
            _slots[i] = _slots[i] with { Phase = SlotPhase.Ended };
        }

        if (plan.GiveUp)
        {
            foreach (int i in plan.Stop)
            {
                _slots[i] = _slots[i] with { Phase = SlotPhase.Ended };
            }

            return;
        }

        foreach (int i in plan.Start)
        {
            _slots[i] = _slots[i] with { Phase = SlotPhase.RestartPending };
        }

        Time.Advance(plan.Delay);
        foreach (int i in plan.Start)
        {
            Time.Advance(Launch);
            _slots[i] = _slots[i] with { Phase = SlotPhase.Alive };
            Planner.OnUp(i);
        }
    }

    /// <summary>Marks a worker as ended for good without a plan (a transient's normal end was already planned).</summary>
    public void SetPhase(int worker, SlotPhase phase) => _slots[worker] = _slots[worker] with { Phase = phase };

    /// <summary>Runs a crash loop of worker 0: each incarnation is up for <paramref name="uptime"/>, then crashes; returns
    /// the simulated time from the first crash to the give-up and how many ends it took, or null if it did not give up
    /// within <paramref name="limit"/>.</summary>
    public (TimeSpan Elapsed, int Ends)? CrashLoop(TimeSpan uptime, TimeSpan limit)
    {
        Time.Advance(uptime);
        DateTimeOffset first = Time.GetUtcNow();
        int ends = 0;
        while (Time.GetUtcNow() - first <= limit)
        {
            if (ends > 0)
            {
                Time.Advance(uptime);
            }

            ends++;
            RestartPlan plan = End(0);
            if (plan.GiveUp)
            {
                return (Time.GetUtcNow() - first, ends);
            }

            Apply(plan);
        }

        return null;
    }
}
