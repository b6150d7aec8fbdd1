using System;
using System.Diagnostics;
using System.Threading;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Parent;

/// <summary>
/// Writes one worker's forwarded log records to the parent's logging, confined and throttled: each record goes to a
/// category under the worker's name (<see cref="WorkerLogCategories"/>), so a worker can never write as the
/// supervisor or any other category of the parent; and at most <see cref="IpcWorkerOptions.MaxLogRecordsPerSecond"/>
/// records a second pass (a token bucket with a burst of as many), the rest are counted and reported in one warning
/// at most once a second.
/// </summary>
/// <remarks>One per incarnation, shared by its control pump (records) and its stdout and stderr readers (lines): all
/// of a worker's output draws on one budget.</remarks>
internal sealed partial class WorkerLogRelay
{
    private readonly Lock _gate = new();
    private readonly WorkerLogCategories _categories;
    private readonly double _perSecond;
    private double _tokens;
    private long _refilledAt;
    private long _dropped;
    private long _reportedAt;

    public WorkerLogRelay(WorkerLogCategories categories, int recordsPerSecond)
    {
        _categories = categories;
        _perSecond = recordsPerSecond;
        _tokens = recordsPerSecond;
        _refilledAt = Stopwatch.GetTimestamp();
        _reportedAt = _refilledAt - Stopwatch.Frequency; // the first drop is reported at once, later ones at most once a second
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
        ILogger logger = _categories.For(record.Text1);
        if (!logger.IsEnabled(level))
        {
            return;
        }

        using (logger.BeginScope(scope))
        {
            string? exceptionText = LogRecordLimits.Truncate(record.Text3, LogRecordLimits.MaxExceptionLength);
            Exception? exception = exceptionText is null ? null : new ForwardedException(exceptionText);
            string message = LogRecordLimits.Truncate(record.Text2, LogRecordLimits.MaxMessageLength) ?? string.Empty;
            logger.Log(level, new EventId(record.EventId), message, exception, static (message, _) => message);
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

        using (_categories.Own.BeginScope(scope))
        {
            Log.Dropped(_categories.Own, scope.Name, _dropped, (int)_perSecond);
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
