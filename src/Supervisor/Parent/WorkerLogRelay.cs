using System;
using System.Diagnostics;
using System.Text;
using System.Threading;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Parent;

/// <summary>
/// Writes one worker's forwarded log records to the parent's logging, confined and throttled: each record goes to a
/// category under the worker's name (<c>IpcChannel.Workers.{name}.{category as sent}</c>), so a worker can never
/// write as the supervisor or any other category of the parent; and at most <see cref="IpcWorkerOptions.MaxLogRecordsPerSecond"/>
/// records a second pass (a token bucket with a burst of as many), the rest are counted and reported in one warning
/// at most once a second.
/// </summary>
/// <remarks>One per incarnation, shared by its control pump (records) and its stdout and stderr readers (lines): all
/// of a worker's output draws on one budget.</remarks>
internal sealed partial class WorkerLogRelay
{
    private readonly Lock _gate = new();
    /// <summary>The longest category suffix kept from a worker's record (longer ones are cut).</summary>
    private const int MaxCategoryLength = 200;

    private readonly ILoggerFactory _loggers;
    private readonly string _prefix;
    private readonly ILogger _own;
    private readonly double _perSecond;
    private double _tokens;
    private long _refilledAt;
    private long _dropped;
    private long _reportedAt;

    public WorkerLogRelay(ILoggerFactory loggers, string workerName, int recordsPerSecond)
    {
        _loggers = loggers;
        _prefix = IpcSupervisor.WorkerLogCategory(workerName);
        _own = loggers.CreateLogger(_prefix);
        _perSecond = recordsPerSecond;
        _tokens = recordsPerSecond;
        _refilledAt = Stopwatch.GetTimestamp();
        _reportedAt = _refilledAt;
    }

    /// <summary>The category a record of <paramref name="category"/> (as the worker sent it) is written under.</summary>
    public string CategoryOf(string? category)
    {
        if (string.IsNullOrEmpty(category))
        {
            return _prefix;
        }

        var suffix = new StringBuilder(Math.Min(category.Length, MaxCategoryLength));
        foreach (char c in category.AsSpan(0, Math.Min(category.Length, MaxCategoryLength)))
        {
            suffix.Append(char.IsControl(c) ? '_' : c);
        }

        return $"{_prefix}.{suffix}";
    }

    /// <summary>Takes one record's worth from the budget; false (and counted as dropped) when it is spent.</summary>
    public bool TryTake(WorkerScope scope)
    {
        lock (_gate)
        {
            long now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(_perSecond, _tokens + ((now - _refilledAt) * _perSecond / Stopwatch.Frequency));
            _refilledAt = now;
            bool take = _tokens >= 1;
            if (take)
            {
                _tokens--;
            }
            else
            {
                _dropped++;
            }

            ReportDropped(scope, now, force: false);
            return take;
        }
    }

    /// <summary>Writes <paramref name="record"/> within the worker's scope, or counts it as dropped.</summary>
    public void Write(ControlUp record, WorkerScope scope)
    {
        if (!TryTake(scope))
        {
            return;
        }

        var level = (LogLevel)Math.Clamp(record.Number, 0, 6);
        ILogger logger = _loggers.CreateLogger(CategoryOf(record.Text1));
        if (!logger.IsEnabled(level))
        {
            return;
        }

        using (logger.BeginScope(scope))
        {
            Exception? exception = record.Text3 is null ? null : new ForwardedException(record.Text3);
            logger.Log(level, new EventId(record.EventId), record.Text2 ?? string.Empty, exception, static (message, _) => message);
        }
    }

    /// <summary>Reports records dropped and not yet reported (when the worker's control connection ends, or it exits).</summary>
    public void Flush(WorkerScope scope)
    {
        lock (_gate)
        {
            ReportDropped(scope, Stopwatch.GetTimestamp(), force: true);
        }
    }

    private void ReportDropped(WorkerScope scope, long now, bool force)
    {
        Debug.Assert(_gate.IsHeldByCurrentThread);
        if (_dropped == 0 || (!force && now - _reportedAt < Stopwatch.Frequency))
        {
            return;
        }

        using (_own.BeginScope(scope))
        {
            Log.Dropped(_own, scope.Name, _dropped, (int)_perSecond);
        }

        _dropped = 0;
        _reportedAt = now;
    }

    /// <summary>An exception of the worker, as text: the parent never rebuilds the worker's exception objects.</summary>
    private sealed class ForwardedException(string text) : Exception("An exception in the worker (shown as the worker logged it).")
    {
        public override string ToString() => text;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.WorkerLogsDropped, Level = LogLevel.Warning, Message = "Worker {WorkerName} logged faster than {Limit} records a second: {Dropped} of its records were dropped.")]
        public static partial void Dropped(ILogger logger, string workerName, long dropped, int limit);
    }
}
