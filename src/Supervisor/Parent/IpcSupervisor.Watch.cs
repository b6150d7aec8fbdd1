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
        try
        {
            while (true)
            {
                ControlUp message = await receiver.RecvAsync().ConfigureAwait(false);
                switch (message.Kind)
                {
                    case ControlUpKind.Pong:
                        Interlocked.Exchange(ref run.LastPong, Stopwatch.GetTimestamp());
                        run.Slot.LastHeartbeat = DateTimeOffset.UtcNow;
                        break;
                    case ControlUpKind.Log:
                        ForwardLog(run, message);
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
            OnProtocolViolation(run, $"sent a malformed control message ({e.Message})");
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException or OperationCanceledException)
        {
            OnChannelClosed(run, "its control channel closed");
        }
        catch (Exception e)
        {
            OnProtocolViolation(run, $"its control pump failed ({e.GetType().Name}: {e.Message})");
        }
    }

    private void ForwardLog(WorkerRun run, ControlUp record)
    {
        var level = (LogLevel)Math.Clamp(record.Number, 0, 6);
        ILogger logger = _loggers.CreateLogger(string.IsNullOrEmpty(record.Text1) ? $"IpcChannel.Supervisor.Workers.{run.Slot.Name}" : record.Text1);
        if (!logger.IsEnabled(level))
        {
            return;
        }

        using (logger.BeginScope(run.Scope))
        {
            Exception? exception = record.Text3 is null ? null : new ForwardedException(record.Text3);
            logger.Log(level, new EventId(record.EventId), record.Text2 ?? string.Empty, exception, static (message, _) => message);
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

                await run.Control!.SendAsync(new ControlDown { Kind = ControlDownKind.Ping, Number = ++sequence }).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException or OperationCanceledException)
        {
            // The run ended or the host is stopping; the exit watcher reports it.
        }
    }
}
