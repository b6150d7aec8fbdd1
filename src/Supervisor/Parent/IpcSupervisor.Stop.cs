using System;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Parent.Policy;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Parent;

/// <summary>The supervisor: stopping.</summary>
internal sealed partial class IpcSupervisor
{
    private async Task StopAllAsync(string reason)
    {
        for (int i = _slots.Count - 1; i >= 0; i--)
        {
            await StopRunAsync(_slots[i], reason).ConfigureAwait(false);
        }
    }

    /// <summary>Stops a worker by its <see cref="StopStep"/>s: the graceful stop message, then SIGTERM after
    /// <see cref="IpcWorkerOptions.StopTimeout"/>, then SIGKILL after <see cref="IpcWorkerOptions.TerminateTimeout"/>
    /// (or SIGKILL at once for a zero <c>StopTimeout</c>, or no limit for an infinite one). The worker's own budget
    /// applies in full, whoever asks for the stop.</summary>
    private async Task StopRunAsync(WorkerSlot slot, string reason)
    {
        if (slot.Current is not { } run || run.Ended.IsCompleted)
        {
            return;
        }

        run.MarkBySupervisor();
        slot.State = IpcWorkerState.Stopping;
        MarkDown(run, $"stopped: {reason}");
        using IDisposable? scope = _logger.BeginScope(run.Scope);
        Log.Stopping(_logger, slot.Name, run.Scope.Pid, reason);
        foreach (StopStep step in StopStep.For(slot.Options, run.Connected))
        {
            string how;
            switch (step.Action)
            {
                case StopAction.Message:
                    if (!TrySend(run, new ControlDown { Kind = ControlDownKind.Stop }))
                    {
                        continue;
                    }

                    how = "graceful stop";
                    break;
                case StopAction.Terminate:
                    Log.Escalating(_logger, slot.Name, run.Scope.Pid, "SIGTERM");
                    run.Process?.Signal(Interop.SIGTERM);
                    how = "SIGTERM";
                    break;
                default:
                    Log.Escalating(_logger, slot.Name, run.Scope.Pid, "SIGKILL");
                    run.Process?.Kill();
                    how = "SIGKILL";
                    break;
            }

            if (await ExitedWithinAsync(run, step.Wait).ConfigureAwait(false) || step.Action == StopAction.Kill)
            {
                Log.Stopped(_logger, slot.Name, run.Scope.Pid, how);
                return;
            }
        }
    }

    private async Task<bool> ExitedWithinAsync(WorkerRun run, TimeSpan timeout)
    {
        try
        {
            await run.Ended.WaitAsync(timeout, _time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
