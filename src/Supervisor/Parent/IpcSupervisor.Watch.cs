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

/// <summary>The supervisor: watching.</summary>
internal sealed partial class IpcSupervisor
{

    private async Task ControlPumpAsync(WorkerRun run)
    {
        IpcReceiver<ControlUp> receiver = run.ControlUp!;
        WorkerLogRelay logs = run.Logs!;
        try
        {
            for (int handled = 1; ; handled++)
            {
                if (handled % PumpBatch == 0)
                {
                    await Task.Yield();
                }

                ControlUp message = await receiver.ReceiveAsync().ConfigureAwait(false);
                switch (message.Kind)
                {
                    case ControlUpKind.Pong:
                        Interlocked.Exchange(ref run.LastPong, Stopwatch.GetTimestamp());
                        run.Slot.LastHeartbeat = DateTimeOffset.UtcNow;
                        break;
                    case ControlUpKind.Log:
                        logs.Write(message, run.Scope);
                        break;
                    case ControlUpKind.LinkSender when message.Text1 is not null && message.Sender is not null:
                        ForwardLinkSender(run.Slot, message.Text1, message.Sender);
                        break;
                    default:
                        message.Sender?.Dispose();
                        OnProtocolViolation(run, $"sent an unexpected {message.Kind} on its control connection");
                        return;
                }
            }
        }
        catch (IpcSerializationException e)
        {
            OnProtocolViolation(run, $"sent a malformed control message ({e.Message}; its MaxMessageSize is {run.Slot.Options.MaxMessageSize} bytes)");
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException or OperationCanceledException)
        {
            OnChannelClosed(run, "its control channel closed");
        }
        catch (Exception e)
        {
            OnProtocolViolation(run, $"its control pump failed ({e.GetType().Name}: {e.Message})");
        }
        finally
        {
            logs.Flush(run.Scope);
        }
    }

    private async Task HeartbeatAsync(WorkerRun run)
    {
        IpcWorkerOptions options = run.Slot.Options;
        using var timer = new PeriodicTimer(options.HeartbeatInterval);
        long sequence = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false) && !run.Ended.IsCompleted)
            {
                TimeSpan silent = Stopwatch.GetElapsedTime(Interlocked.Read(ref run.LastPong));
                if (silent > options.HeartbeatTimeout)
                {
                    Kill(run, $"hung: no heartbeat answer for {silent.TotalMilliseconds:0} ms");
                    return;
                }

                // Through the outbox, in order with links and stops; a worker that does not read them is killed there.
                if (!TrySend(run, new ControlDown { Kind = ControlDownKind.Ping, Number = ++sequence }))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException or OperationCanceledException)
        {
            // The run ended or the host is stopping; the exit watcher reports it.
        }
    }
}
