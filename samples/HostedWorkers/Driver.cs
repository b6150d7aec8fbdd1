using System;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HostedWorkers;

/// <summary>
/// The app's own work (it runs in the parent only): sends the hasher a text every 500 ms, "boom" every
/// twentieth time, and prints the clock's ticks.
/// </summary>
public sealed partial class Driver(
    IpcWorkerClient<HashRequest, HashResult> hasher,
    IpcWorkerClient<ClockCommand, ClockTick> clock,
    ILogger<Driver> logger) : BackgroundService
{
    private static readonly string[] s_words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Task ticks = ReadTicksAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        int n = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                n++;
                string text = n % 20 == 0 ? "boom" : s_words[n % s_words.Length];
                try
                {
                    HashResult result = await hasher.RequestAsync(new HashRequest(text), TimeSpan.FromSeconds(5), stoppingToken);
                    // The pid as the supervisor sees it: inside its sandbox's PID namespace a worker is pid 1.
                    Log.Hashed(logger, result.Text, result.Sha256, hasher.Status.Pid, result.Incarnation);
                }
                catch (IpcWorkerCrashedException e)
                {
                    Log.Lost(logger, text, e.Incarnation, e.Reason);
                }
                catch (IpcWorkerException e)
                {
                    Log.Failed(logger, text, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }

        await ticks;
    }

    private async Task ReadTicksAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (ClockTick tick in clock.ReadAllAsync(stoppingToken))
            {
                Log.Tick(logger, tick.Number, clock.Status.Pid);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "hash({Text}) = {Sha256} by hasher pid {Pid}, incarnation {Incarnation}")]
        public static partial void Hashed(ILogger logger, string text, string sha256, int pid, int incarnation);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "hash({Text}) lost: hasher incarnation {Incarnation} crashed ({Reason}); the supervisor restarts it")]
        public static partial void Lost(ILogger logger, string text, int incarnation, string reason);

        [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "hash({Text}) failed: {Error}")]
        public static partial void Failed(ILogger logger, string text, string error);

        [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "tick {Number} from clock pid {Pid}")]
        public static partial void Tick(ILogger logger, long number, int pid);
    }
}
