using System;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor;
using Microsoft.Extensions.Logging;

namespace HostedWorkers;

/// <summary>Sends the parent a tick every second, on its own, and logs each one (the log reaches the parent).</summary>
public sealed partial class Clock(ILogger<Clock> logger) : IpcWorker<ClockCommand, ClockTick>
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long n = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                n++;
                if (n % 5 == 0)
                {
                    Log.Ticked(logger, n);
                }

                await SendToParentAsync(new ClockTick(n, Environment.ProcessId, DateTimeOffset.UtcNow), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped by the parent: the normal end.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Clock ticked {Count} times so far.")]
        public static partial void Ticked(ILogger logger, long count);
    }
}
