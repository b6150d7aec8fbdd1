using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>One captured log record with the scope values active when it was written.</summary>
public sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message, IReadOnlyDictionary<string, object?> Scope)
{
    public override string ToString() => $"{Level} {Category}[{EventId}] {Message} {{{string.Join(", ", Scope.Select(kv => $"{kv.Key}={kv.Value}"))}}}";
}

/// <summary>Captures every log record, and lets a test wait (bounded) for one matching a predicate.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Done)> _waiters = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    /// <summary>Waits for a record matching <paramref name="match"/> (including ones already captured).</summary>
    public Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            LogEntry? existing = _entries.FirstOrDefault(match);
            if (existing is not null)
            {
                return Task.FromResult(existing);
            }

            _waiters.Add((match, done));
        }

        return done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    public string Dump() => string.Join(Environment.NewLine, _entries);

    private void Add(LogEntry entry)
    {
        lock (_waiters)
        {
            _entries.Enqueue(entry);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(entry))
                {
                    _waiters[i].Done.TrySetResult(entry);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scope = new Dictionary<string, object?>();
            owner._scopes.ForEachScope(
                (value, dictionary) =>
                {
                    if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (KeyValuePair<string, object?> pair in pairs)
                        {
                            dictionary[pair.Key] = pair.Value;
                        }
                    }
                },
                scope);
            owner.Add(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception), scope));
        }
    }
}
