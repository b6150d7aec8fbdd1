using System;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Child;

/// <summary>
/// The child's logging provider: every record goes into a bounded in-process queue and one pump sends it to
/// the parent on the control connection, where it is logged with the worker's scope. Logging never blocks:
/// when the parent is slow the oldest records are dropped, and the drop is counted and reported.
/// </summary>
internal sealed class LogForwarder : ILoggerProvider, ISupportExternalScope
{
    private const int Capacity = 4096;

    private readonly Channel<ControlUp> _queue;

    private IExternalScopeProvider? _scopes;
    private Task _pump = Task.CompletedTask;
    private long _dropped;

    public LogForwarder() => _queue = Channel.CreateBounded<ControlUp>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
        _ => Interlocked.Increment(ref _dropped));

    public ILogger CreateLogger(string categoryName) => new ForwardingLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Starts sending to the parent.</summary>
    public void Attach(IpcSender<ControlUp> parent) => _pump = PumpAsync(parent);

    /// <summary>Sends what is queued, bounded by <paramref name="cancellationToken"/>.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _pump.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Out of time: what is left is lost with the process.
        }
    }

    public void Dispose() => _queue.Writer.TryComplete();

    private void Enqueue(ControlUp record)
    {
        _queue.Writer.TryWrite(record);
    }

    private async Task PumpAsync(IpcSender<ControlUp> parent)
    {
        try
        {
            await foreach (ControlUp record in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                long dropped = Interlocked.Exchange(ref _dropped, 0);
                if (dropped > 0)
                {
                    await parent.SendAsync(new ControlUp
                    {
                        Kind = ControlUpKind.Log,
                        Number = (long)LogLevel.Warning,
                        Text1 = "LogForwarder",
                        Text2 = $"{dropped} log record(s) of this worker were dropped: it logged faster than the parent read.",
                    }).ConfigureAwait(false);
                }

                await parent.SendAsync(record).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException)
        {
            // The parent is gone; the watchdog deals with that.
        }
    }

    private sealed class ForwardingLogger(LogForwarder owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string message = formatter(state, exception);
            owner.Enqueue(new ControlUp
            {
                Kind = ControlUpKind.Log,
                Number = (long)logLevel,
                EventId = eventId.Id,
                Text1 = LogRecordLimits.Truncate(category, LogRecordLimits.MaxCategoryLength),
                Text2 = LogRecordLimits.Truncate(message, LogRecordLimits.MaxMessageLength),
                Text3 = LogRecordLimits.Truncate(exception?.ToString(), LogRecordLimits.MaxExceptionLength),
            });
        }
    }
}
