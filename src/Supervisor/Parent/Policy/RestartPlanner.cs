using System;
using System.Collections.Generic;

namespace IpcChannel.Supervisor.Parent.Policy;

/// <summary>
/// The supervisor's restart rules (Erlang/OTP <c>supervisor.erl</c>) as a pure decision: a worker's end and the
/// workers' phases in, a <see cref="RestartPlan"/> out. It owns the policy's state (the restart intensity's entries,
/// each worker's backoff series and uptime) and reads time only from its <see cref="TimeProvider"/> and chance only
/// from its <see cref="Random"/>, so every rule is testable without processes or waiting. Not thread-safe: the
/// supervisor calls it from its one loop.
/// </summary>
/// <remarks>
/// <para>Restart types: permanent always, transient after an abnormal end only, temporary never (and its end adds
/// nothing to the intensity). Strategies: one_for_one restarts the worker; one_for_all stops every other alive worker
/// in reverse start order and starts the group in start order; rest_for_one does the same with the workers after it.
/// A sibling whose spec is kept (not temporary) is started with the group even if it had ended normally, as OTP keeps
/// the spec of a non-temporary child; a temporary sibling is stopped and not started. A sibling whose own restart is
/// already pending is left to it. One group event is one restart.</para>
/// <para>Intensity: more than <see cref="IpcSupervisorOptions.MaxRestarts"/> restarts within
/// <see cref="IpcSupervisorOptions.RestartPeriod"/> gives up (OTP: the restart that would make the count exceed the
/// limit gives up; an entry exactly one period old still counts). The period counts the time the workers were given
/// to run: the age of a restart leaves out the time its worker then spent waiting for its backoff, for its group's
/// stops and in its launch up to its hello. So a backoff never decides whether the supervisor gives up, only when: a
/// crash loop whose incarnations run for less than <c>RestartPeriod / (MaxRestarts + 1)</c> gives up at its
/// <c>MaxRestarts + 1</c>-th end, however long its delays and launches take.</para>
/// <para>Backoff: a worker's first restart in a series is immediate, then <see cref="IpcSupervisorOptions.BackoffInitial"/>
/// doubling up to <see cref="IpcSupervisorOptions.BackoffMax"/>, each ±<see cref="IpcSupervisorOptions.BackoffJitter"/>.
/// An incarnation that was up (hello to exit) for <see cref="IpcSupervisorOptions.BackoffResetAfter"/> starts a new
/// series. The delay belongs to the group it restarts.</para>
/// </remarks>
internal sealed class RestartPlanner
{
    private readonly IpcSupervisorOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly WorkerClock[] _workers;

    /// <summary>The restarts that count toward the intensity, oldest first.</summary>
    private readonly List<RestartEntry> _restarts = new();

    /// <summary>Creates the planner of <paramref name="workerCount"/> workers.</summary>
    /// <param name="options">The supervisor's options (validated).</param>
    /// <param name="workerCount">How many workers, indexed in start order.</param>
    /// <param name="time">The clock.</param>
    /// <param name="random">The source of the backoff's jitter.</param>
    public RestartPlanner(IpcSupervisorOptions options, int workerCount, TimeProvider time, Random random)
    {
        _options = options;
        _time = time;
        _random = random;
        _workers = new WorkerClock[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            _workers[i] = new WorkerClock();
        }
    }

    /// <summary>How many restarts count toward the intensity now.</summary>
    public int RestartsInWindow
    {
        get
        {
            Expire(_time.GetTimestamp());
            return _restarts.Count;
        }
    }

    /// <summary>The worker said hello: its uptime starts, and the time it spent restarting ends.</summary>
    /// <param name="worker">The worker's index.</param>
    public void OnUp(int worker)
    {
        long now = _time.GetTimestamp();
        WorkerClock clock = _workers[worker];
        clock.ClosePause(now, _time);
        clock.UpAt = now;
    }

    /// <summary>Decides what a worker's end leads to. Ends the supervisor caused itself (a strategy's stop, the host's
    /// stop) are not brought here.</summary>
    /// <param name="end">The end.</param>
    /// <param name="slots">Every worker, in start order (the ended one included).</param>
    /// <returns>The plan.</returns>
    public RestartPlan OnExit(WorkerEnd end, IReadOnlyList<SlotView> slots)
    {
        long now = _time.GetTimestamp();
        WorkerClock clock = _workers[end.Worker];
        TimeSpan uptime = clock.UpAt is { } up && end.EndedAt > up ? _time.GetElapsedTime(up, end.EndedAt) : TimeSpan.Zero;
        clock.UpAt = null;
        clock.ClosePause(end.EndedAt, _time);

        bool restart = slots[end.Worker].Restart switch
        {
            IpcRestartType.Permanent => true,
            IpcRestartType.Transient => end.Abnormal,
            _ => false,
        };
        if (!restart)
        {
            return RestartPlan.Finish(end.Worker);
        }

        Expire(now);
        if (_restarts.Count >= _options.MaxRestarts)
        {
            return GiveUp(end.Worker, slots);
        }

        _restarts.Add(new RestartEntry(now, end.Worker, clock.Paused(now, _time)));
        (List<int> stop, List<int> start, List<int> finished) = Group(end.Worker, slots);
        TimeSpan delay = NextDelay(clock, uptime);
        foreach (int worker in start)
        {
            _workers[worker].OpenPause(now);
        }

        return new RestartPlan(stop, start, finished, delay, GiveUp: false);
    }

    private (List<int> Stop, List<int> Start, List<int> Finished) Group(int ended, IReadOnlyList<SlotView> slots)
    {
        int first = _options.Strategy switch
        {
            IpcRestartStrategy.OneForAll => 0,
            _ => ended,
        };
        int last = _options.Strategy == IpcRestartStrategy.OneForOne ? ended : slots.Count - 1;
        var stop = new List<int>();
        var start = new List<int>();
        var finished = new List<int>();
        for (int i = first; i <= last; i++)
        {
            SlotView slot = slots[i];
            if (i == ended)
            {
                start.Add(i);
            }
            else if (slot.Phase == SlotPhase.Alive)
            {
                stop.Add(i);
                (slot.Restart == IpcRestartType.Temporary ? finished : start).Add(i);
            }
            else if (slot.Phase == SlotPhase.Ended && slot.Restart != IpcRestartType.Temporary)
            {
                start.Add(i);
            }
        }

        stop.Reverse();
        return (stop, start, finished);
    }

    private static RestartPlan GiveUp(int ended, IReadOnlyList<SlotView> slots)
    {
        var stop = new List<int>();
        for (int i = slots.Count - 1; i >= 0; i--)
        {
            if (i != ended && slots[i].Phase == SlotPhase.Alive)
            {
                stop.Add(i);
            }
        }

        return new RestartPlan(stop, [], [], TimeSpan.Zero, GiveUp: true);
    }

    /// <summary>Drops the restarts older than the period (their worker's restarting time left out).</summary>
    private void Expire(long now) =>
        _restarts.RemoveAll(r => _time.GetElapsedTime(r.At, now) - (_workers[r.Worker].Paused(now, _time) - r.PausedBefore) > _options.RestartPeriod);

    private TimeSpan NextDelay(WorkerClock clock, TimeSpan uptime)
    {
        if (uptime >= _options.BackoffResetAfter)
        {
            clock.Series = 0;
        }

        int n = ++clock.Series;
        if (n == 1)
        {
            return TimeSpan.Zero;
        }

        double ms = Math.Min(_options.BackoffMax.TotalMilliseconds, _options.BackoffInitial.TotalMilliseconds * Math.Pow(2, n - 2));
        double jitter = 1 + (_options.BackoffJitter * ((_random.NextDouble() * 2) - 1));
        return TimeSpan.FromMilliseconds(Math.Max(0, ms * jitter));
    }

    /// <summary>One restart that counts toward the intensity.</summary>
    /// <param name="At">When it was decided.</param>
    /// <param name="Worker">The worker whose end caused it.</param>
    /// <param name="PausedBefore">That worker's restarting time before it (see <see cref="WorkerClock.Paused"/>).</param>
    private readonly record struct RestartEntry(long At, int Worker, TimeSpan PausedBefore);

    /// <summary>One worker's policy state.</summary>
    private sealed class WorkerClock
    {
        /// <summary>When the current incarnation said hello, or null while it is not up.</summary>
        public long? UpAt { get; set; }

        /// <summary>Consecutive restarts in the current backoff series.</summary>
        public int Series { get; set; }

        /// <summary>Since when the worker has been restarting (decision to hello or end), or null.</summary>
        private long? _pauseStart;

        /// <summary>Restarting time of the closed pauses.</summary>
        private TimeSpan _paused;

        /// <summary>The worker's total restarting time up to <paramref name="now"/>.</summary>
        public TimeSpan Paused(long now, TimeProvider time) =>
            _paused + (_pauseStart is { } start && now > start ? time.GetElapsedTime(start, now) : TimeSpan.Zero);

        public void OpenPause(long now) => _pauseStart ??= now;

        public void ClosePause(long now, TimeProvider time)
        {
            if (_pauseStart is { } start)
            {
                _paused += now > start ? time.GetElapsedTime(start, now) : TimeSpan.Zero;
                _pauseStart = null;
            }
        }
    }
}
