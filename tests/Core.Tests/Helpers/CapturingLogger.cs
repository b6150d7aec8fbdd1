using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Core.Tests.Helpers;

/// <summary>An <see cref="ILogger"/> that keeps what it is given and signals each entry.</summary>
public sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId Id, Exception? Error)> _entries = new();
    private readonly SemaphoreSlim _logged = new(0);

    /// <summary>The entries so far.</summary>
    public (LogLevel Level, EventId Id, Exception? Error)[] Entries => _entries.ToArray();

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _entries.Enqueue((logLevel, eventId, exception));
        _logged.Release();
    }

    /// <summary>Waits (bounded) until at least <paramref name="count"/> entries were logged.</summary>
    public void WaitFor(int count)
    {
        while (_entries.Count < count)
        {
            if (!_logged.Wait(ReceiveExtensions.Patience))
            {
                throw new TimeoutException($"Only {_entries.Count} of {count} log entries arrived: {string.Join("; ", Entries.Select(e => e.Id))}");
            }
        }
    }
}
