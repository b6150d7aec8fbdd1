using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.TestHost;

/// <summary>
/// A worker the tests drive by command: echo, identify, crash (FailFast or exception), finish normally,
/// log, notify, and produce/consume on the "bulk" link (a worker whose name starts with "consumer" consumes); and,
/// as a compromised worker would, attack its supervisor (<see cref="HostileActs"/>, verbs "memfd-bomb",
/// "hold-bootstrap", "forge-log", "log-flood", "log-categories").
/// </summary>
public sealed partial class ProbeWorker(ILogger<ProbeWorker> logger, ILoggerFactory loggers) : IpcWorker<ProbeCommand, ProbeReply>
{
    private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _consumed;
    private long _consumedBytes;
    private readonly SemaphoreSlim _arrived = new(0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Running(logger, WorkerName, Environment.ProcessId, Incarnation);
        if (Environment.GetEnvironmentVariable("TESTHOST_CRASH_AT_START") == "1")
        {
            throw new InvalidOperationException("crashing at start, as configured");
        }

        Task consuming = WorkerName.StartsWith("consumer", StringComparison.Ordinal) ? ConsumeAsync(stoppingToken) : Task.CompletedTask;
        try
        {
            await _finish.Task.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Log.Stopping(logger, WorkerName, Environment.ProcessId);

            // A worker told to stop slowly takes this long over its graceful stop (the shutdown-budget tests).
            if (int.TryParse(Environment.GetEnvironmentVariable("TESTHOST_STOP_DELAY_MS"), out int stopDelay))
            {
                await Task.Delay(stopDelay, CancellationToken.None);
            }
        }

        await consuming;
    }

    protected override async ValueTask OnMessageAsync(ProbeCommand message, CancellationToken cancellationToken)
    {
        switch (message.Verb)
        {
            case "notify":
                await SendToParentAsync(new ProbeReply(message.Text, Environment.ProcessId, Incarnation), cancellationToken);
                break;
            case "throw":
                throw new InvalidOperationException("the probe was told to crash");
            case "memfd-bomb":
                // Number MiB, declared in a frame on every channel this process has to the parent.
                HostileActs.SendSparseMemfdOnEveryChannel((long)message.Number << 20);
                break;
            default:
                Log.Received(logger, WorkerName, message.Verb);
                break;
        }
    }

    protected override async ValueTask<ProbeReply> OnRequestAsync(ProbeCommand request, CancellationToken cancellationToken)
    {
        switch (request.Verb)
        {
            case "echo":
                return Reply(request.Text);
            case "info":
                return Reply(WorkerName);
            case "failfast":
                Environment.FailFast("the probe was told to fail fast");
                return Reply("unreachable");
            case "fault":
                throw new ArgumentException("the probe was told to fail this request");
            case "finish":
                _finish.TrySetResult();
                return Reply("finishing");
            case "log":
                Log.Marker(logger, request.Text, WorkerName);
                Console.WriteLine($"stdout-marker {request.Text}");
                return Reply("logged");
            case "hold-bootstrap":
                return Reply("held", HostileActs.HoldSilentConnections(Environment.GetEnvironmentVariable(IpcWorkerEnvironment.BootstrapVariable)!, request.Number));
            case "forge-log":
                // Writes as the supervisor itself would, in the hope of being printed as it.
                ILogger impersonated = loggers.CreateLogger(request.Text);
                Log.Forged(impersonated, WorkerName);
                return Reply("forged");
            case "log-categories":
                // One record under each of Number distinct categories.
                for (int i = 0; i < request.Number; i++)
                {
                    ILogger category = loggers.CreateLogger($"Category{i}");
                    Log.InCategory(category, i);
                }

                return Reply("logged", request.Number);
            case "log-flood":
                ILogger flood = loggers.CreateLogger("Flood");
                for (int i = 0; i < request.Number; i++)
                {
                    Log.Flood(flood, i);
                    Console.WriteLine($"flood line {i}");
                }

                return Reply("flooded", request.Number);
            case "produce":
                IpcWorkerLinkSender<BulkItem> link = Links.GetSender<BulkItem>("bulk");
                for (int i = 0; i < request.Number; i++)
                {
                    await link.SendAsync(new BulkItem(i, new byte[1024]), cancellationToken);
                }

                return Reply("produced", request.Number);
            case "consumed":
                return Reply("consumed", Interlocked.Read(ref _consumed));
            case "await-consumed":
                while (Interlocked.Read(ref _consumed) < request.Number)
                {
                    await _arrived.WaitAsync(cancellationToken);
                }

                return Reply("consumed", Interlocked.Read(ref _consumed));
            default:
                throw new NotSupportedException($"unknown verb {request.Verb}");
        }
    }

    private ProbeReply Reply(string text, long number = 0) => new(text, Environment.ProcessId, Incarnation, number);

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        IpcReceiver<BulkItem> receiver = Links.GetReceiver<BulkItem>("bulk");
        try
        {
            await foreach (BulkItem item in receiver.ReadAllAsync(stoppingToken))
            {
                Interlocked.Increment(ref _consumed);
                Interlocked.Add(ref _consumedBytes, item.Payload.Length);
                _arrived.Release();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Probe {WorkerName} running in pid {Pid}, incarnation {Incarnation}.")]
        public static partial void Running(ILogger logger, string workerName, int pid, int incarnation);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Probe {WorkerName} (pid {Pid}) stopping.")]
        public static partial void Stopping(ILogger logger, string workerName, int pid);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "log-marker {Marker} from {WorkerName}")]
        public static partial void Marker(ILogger logger, string marker, string workerName);

        [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Probe {WorkerName} got {Verb}.")]
        public static partial void Received(ILogger logger, string workerName, string verb);

        [LoggerMessage(EventId = 7004, Level = LogLevel.Critical, Message = "The supervisor gives up: forged by {WorkerName}")]
        public static partial void Forged(ILogger logger, string workerName);

        [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "category record {Index}")]
        public static partial void InCategory(ILogger logger, int index);

        [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "flood record {Index}")]
        public static partial void Flood(ILogger logger, int index);
    }
}

/// <summary>A worker whose message types differ from the probe's (to prove type mismatches are refused).</summary>
public sealed class WrongTypeWorker : IpcWorker<string, string>
{
}
