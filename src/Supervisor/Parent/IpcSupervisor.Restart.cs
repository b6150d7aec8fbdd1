using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Parent.Policy;

namespace IpcChannel.Supervisor.Parent;

/// <summary>The supervisor: the loop, carrying out the <see cref="RestartPlanner"/>'s plans.</summary>
internal sealed partial class IpcSupervisor
{
    /// <summary>Posts an ended incarnation to the loop.</summary>
    private void Post(WorkerRun run) => _events.Writer.TryWrite(new LoopEvent(run, null));

    private async Task LoopAsync()
    {
        try
        {
            await foreach (LoopEvent next in _events.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                if (next.Ended is { } run)
                {
                    await HandleEndedAsync(run).ConfigureAwait(false);
                }
                else
                {
                    await StartGroupAsync(next.Due!).ConfigureAwait(false);
                }

                if (Volatile.Read(ref _gaveUp) != 0)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Host stopping.
        }
        catch (Exception e)
        {
            Log.LoopFailed(_logger, e);
            Environment.ExitCode = _options.GiveUpExitCode;
            _lifetime.StopApplication();
        }
    }

    private async Task HandleEndedAsync(WorkerRun run)
    {
        WorkerSlot slot = run.Slot;
        if (ReferenceEquals(slot.Standby, run))
        {
            slot.Standby = null;
        }

        if (run.BySupervisor || !ReferenceEquals(slot.Current, run))
        {
            return;
        }

        WorkerExit exit = await run.Ended.ConfigureAwait(false);
        if (exit.Abnormal)
        {
            _metrics.Crashed(slot.Name);
        }

        RestartPlan plan = _planner.OnExit(new WorkerEnd(slot.Index, exit.Abnormal, run.EndedAt), Views());
        using (_logger.BeginScope(run.Scope))
        {
            string described = exit.Describe();
            Log.Exited(_logger, slot.Name, run.Scope.Pid, run.Number, described, slot.Options.Restart, !plan.Finished.Contains(slot.Index));
        }

        if (plan.GiveUp)
        {
            await GiveUpAsync(slot, exit, plan).ConfigureAwait(false);
            return;
        }

        // Siblings stopped by the strategy end on purpose: an exit of theirs already queued is not another event.
        foreach (int i in plan.Stop)
        {
            _slots[i].Current?.MarkBySupervisor();
        }

        foreach (int i in plan.Stop)
        {
            await StopRunAsync(_slots[i], $"{_options.Strategy}: worker {slot.Name} ended").ConfigureAwait(false);
        }

        foreach (int i in plan.Finished)
        {
            _slots[i].State = IpcWorkerState.Stopped;
            _slots[i].OnTerminal(IpcWorkerState.Stopped);
        }

        if (plan.Start.Count == 0)
        {
            return;
        }

        foreach (int i in plan.Start)
        {
            _slots[i].State = IpcWorkerState.Restarting;
        }

        Log.Restarting(_logger, slot.Name, plan.Delay.TotalMilliseconds, plan.Start.Count, _options.Strategy);
        if (plan.Delay <= TimeSpan.Zero)
        {
            await StartGroupAsync(plan.Start).ConfigureAwait(false);
        }
        else
        {
            _ = StartGroupLaterAsync(plan.Start, plan.Delay);
        }
    }

    /// <summary>A group's backoff runs beside the loop, which goes on deciding other workers' ends; when it is over
    /// the group's start is posted to the loop.</summary>
    private async Task StartGroupLaterAsync(IReadOnlyList<int> group, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        _events.Writer.TryWrite(new LoopEvent(null, group));
    }

    private async Task StartGroupAsync(IReadOnlyList<int> group)
    {
        foreach (int i in group)
        {
            WorkerSlot s = _slots[i];
            if (s.State == IpcWorkerState.Restarting && !_stopping.IsCancellationRequested && Volatile.Read(ref _gaveUp) == 0)
            {
                s.Restarts++;
                _metrics.Restarted(s.Name);
                if (!TryActivateStandby(s))
                {
                    await StartRunAsync(s, _stopping.Token).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>The workers as the planner reads them.</summary>
    private SlotView[] Views()
    {
        var views = new SlotView[_slots.Count];
        for (int i = 0; i < views.Length; i++)
        {
            WorkerSlot s = _slots[i];
            SlotPhase phase = s.State == IpcWorkerState.Restarting ? SlotPhase.RestartPending
                : IsAlive(s) ? SlotPhase.Alive
                : SlotPhase.Ended;
            views[i] = new SlotView(s.Options.Restart, phase);
        }

        return views;
    }

    private static bool IsAlive(WorkerSlot slot) =>
        slot.State is IpcWorkerState.Running or IpcWorkerState.Starting || (slot.Current is { } run && !run.Ended.IsCompleted);

    private async Task GiveUpAsync(WorkerSlot slot, WorkerExit exit, RestartPlan plan)
    {
        Volatile.Write(ref _gaveUp, 1);
        string described = exit.Describe();
        Log.GaveUp(_logger, slot.Name, described, _options.MaxRestarts, _options.RestartPeriod.TotalSeconds, _options.GiveUpExitCode);
        foreach (int i in plan.Stop)
        {
            await StopRunAsync(_slots[i], "the supervisor gave up").ConfigureAwait(false);
        }

        foreach (WorkerSlot s in _slots)
        {
            await StopStandbyAsync(s).ConfigureAwait(false);
        }

        foreach (WorkerSlot s in _slots)
        {
            s.State = IpcWorkerState.Failed;
            s.OnTerminal(IpcWorkerState.Failed);
        }

        Environment.ExitCode = _options.GiveUpExitCode;
        _lifetime.StopApplication();
    }

    /// <summary>What the loop handles: an ended incarnation, or a group whose backoff is over.</summary>
    private readonly record struct LoopEvent(WorkerRun? Ended, IReadOnlyList<int>? Due);
}
