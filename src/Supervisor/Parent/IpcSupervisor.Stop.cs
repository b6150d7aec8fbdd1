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

/// <summary>The supervisor: stopping.</summary>
internal sealed partial class IpcSupervisor
{

    private async Task StopAllAsync(string reason, CancellationToken cancellationToken)
    {
        for (int i = _slots.Count - 1; i >= 0; i--)
        {
            await StopRunAsync(_slots[i], reason, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Graceful stop message, then SIGTERM after <see cref="IpcWorkerOptions.StopTimeout"/>, then SIGKILL after
    /// <see cref="IpcWorkerOptions.TerminateTimeout"/>. A cancelled token skips straight to SIGKILL.</summary>
    private async Task StopRunAsync(WorkerSlot slot, string reason, CancellationToken cancellationToken)
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
        if (run.Connected && TrySend(run, new ControlDown { Kind = ControlDownKind.Stop })
            && await ExitedWithinAsync(run, slot.Options.StopTimeout, cancellationToken).ConfigureAwait(false))
        {
            Log.Stopped(_logger, slot.Name, run.Scope.Pid, "graceful stop");
            return;
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            Log.Escalating(_logger, slot.Name, run.Scope.Pid, "SIGTERM");
            run.Process?.Signal(Interop.SIGTERM);
            if (await ExitedWithinAsync(run, slot.Options.TerminateTimeout, cancellationToken).ConfigureAwait(false))
            {
                Log.Stopped(_logger, slot.Name, run.Scope.Pid, "SIGTERM");
                return;
            }
        }

        Log.Escalating(_logger, slot.Name, run.Scope.Pid, "SIGKILL");
        run.Process?.Kill();
        await ExitedWithinAsync(run, TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        Log.Stopped(_logger, slot.Name, run.Scope.Pid, "SIGKILL");
    }

    private static async Task<bool> ExitedWithinAsync(WorkerRun run, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await run.Ended.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }
}
