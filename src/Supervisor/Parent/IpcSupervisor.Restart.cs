using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IpcChannel.Supervisor.Parent;

/// <summary>The supervisor: the loop: OTP restart rules.</summary>
internal sealed partial class IpcSupervisor
{

    private async Task LoopAsync()
    {
        try
        {
            await foreach (WorkerRun run in _ended.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                await HandleEndedAsync(run).ConfigureAwait(false);
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

        bool restart = slot.Options.Restart switch
        {
            IpcRestartType.Permanent => true,
            IpcRestartType.Transient => exit.Abnormal,
            _ => false,
        };
        using (_logger.BeginScope(run.Scope))
        {
            string described = exit.Describe();
            Log.Exited(_logger, slot.Name, run.Scope.Pid, run.Number, described, slot.Options.Restart, restart);
        }

        if (!restart)
        {
            slot.State = IpcWorkerState.Stopped;
            slot.OnTerminal(IpcWorkerState.Stopped);
            return;
        }

        if (!TryRecordRestart())
        {
            await GiveUpAsync(slot, exit).ConfigureAwait(false);
            return;
        }

        List<WorkerSlot> group = _options.Strategy switch
        {
            IpcRestartStrategy.OneForAll => _slots.Where(s => s == slot || IsAlive(s)).ToList(),
            IpcRestartStrategy.RestForOne => _slots.Where(s => s == slot || (s.Index > slot.Index && IsAlive(s))).ToList(),
            _ => [slot],
        };
        for (int i = group.Count - 1; i >= 0; i--)
        {
            if (group[i] != slot)
            {
                await StopRunAsync(group[i], $"{_options.Strategy}: worker {slot.Name} ended", _stopping.Token).ConfigureAwait(false);
            }
        }

        foreach (WorkerSlot s in group)
        {
            if (s != slot && s.Options.Restart == IpcRestartType.Temporary)
            {
                s.State = IpcWorkerState.Stopped;
                s.OnTerminal(IpcWorkerState.Stopped);
            }
            else
            {
                s.State = IpcWorkerState.Restarting;
            }
        }

        TimeSpan delay = NextBackoff(slot);
        Log.Restarting(_logger, slot.Name, delay.TotalMilliseconds, group.Count, _options.Strategy);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
        }

        foreach (WorkerSlot s in group)
        {
            if (s.State == IpcWorkerState.Restarting && !_stopping.IsCancellationRequested)
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

    private static bool IsAlive(WorkerSlot slot) =>
        slot.State is IpcWorkerState.Running or IpcWorkerState.Starting || (slot.Current is { } run && !run.Ended.IsCompleted);

    /// <summary>OTP intensity: at most <see cref="IpcSupervisorOptions.MaxRestarts"/> restarts within the period.</summary>
    private bool TryRecordRestart()
    {
        long now = Stopwatch.GetTimestamp();
        while (_restartTimes.Count > 0 && Stopwatch.GetElapsedTime(_restartTimes.Peek(), now) > _options.RestartPeriod)
        {
            _restartTimes.Dequeue();
        }

        if (_restartTimes.Count >= _options.MaxRestarts)
        {
            return false;
        }

        _restartTimes.Enqueue(now);
        return true;
    }

    /// <summary>First restart immediate; then <see cref="IpcSupervisorOptions.BackoffInitial"/> doubling up to the max, with jitter.</summary>
    private TimeSpan NextBackoff(WorkerSlot slot)
    {
        if (slot.RunningFor > _options.BackoffResetAfter)
        {
            slot.BackoffSeries = 0;
        }

        int n = ++slot.BackoffSeries;
        if (n == 1)
        {
            return TimeSpan.Zero;
        }

        double ms = Math.Min(_options.BackoffMax.TotalMilliseconds, _options.BackoffInitial.TotalMilliseconds * Math.Pow(2, n - 2));
        double jitter = 1 + (_options.BackoffJitter * ((Random.Shared.NextDouble() * 2) - 1));
        return TimeSpan.FromMilliseconds(Math.Max(0, ms * jitter));
    }

    private async Task GiveUpAsync(WorkerSlot slot, WorkerExit exit)
    {
        Volatile.Write(ref _gaveUp, 1);
        string described = exit.Describe();
        Log.GaveUp(_logger, slot.Name, described, _options.MaxRestarts, _options.RestartPeriod.TotalSeconds, _options.GiveUpExitCode);
        await StopAllAsync("the supervisor gave up", CancellationToken.None).ConfigureAwait(false);
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
}
