using System;
using System.Linq;
using IpcChannel.Supervisor.Parent;
using IpcChannel.Supervisor.Protocol;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>The parent's side of a worker's log records, on the real relay and a capturing logger.</summary>
public sealed class WorkerLogRelayTests
{
    /// <summary>A worker does not have to cut its records: the parent cuts a record's message and exception text, so a
    /// worker cannot make every log sink carry megabytes per record.</summary>
    [Fact]
    public void HugeRecord_IsCutToTheLimits_UnderTheWorkersCategory()
    {
        using var capture = new CapturingLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        var relay = new WorkerLogRelay(new WorkerLogCategories(loggers, "w"), recordsPerSecond: 100);

        relay.Write(new ControlUp { Kind = ControlUpKind.Log, Number = (long)LogLevel.Warning, Text1 = "Big", Text2 = new string('m', 4 << 20), Text3 = new string('e', 4 << 20) }, new WorkerScope("w", 1, 1));

        LogEntry entry = Assert.Single(capture.Entries);
        Assert.Equal("IpcChannel.Workers.w.Big", entry.Category);
        Assert.Equal(LogRecordLimits.MaxMessageLength, entry.Message.Length);
        Assert.EndsWith("…(truncated)", entry.Message, StringComparison.Ordinal);
    }

    /// <summary>The first dropped record is reported at once (later drops at most once a second), so a flood that ends
    /// within a second of the worker's start is still reported while the worker runs.</summary>
    [Fact]
    public void FirstDrop_IsReportedAtOnce()
    {
        using var capture = new CapturingLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        var relay = new WorkerLogRelay(new WorkerLogCategories(loggers, "w"), recordsPerSecond: 2);
        var scope = new WorkerScope("w", 1, 1);

        for (int i = 0; i < 10; i++)
        {
            relay.Write(new ControlUp { Kind = ControlUpKind.Log, Number = (long)LogLevel.Information, Text1 = "Flood", Text2 = "x" }, scope);
        }

        LogEntry report = Assert.Single(capture.Entries, e => e.EventId == 7032);
        Assert.Equal("IpcChannel.Workers.w", report.Category);
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(100, 64)]
    public void Truncate_KeepsShortTextAndCutsLongText(int length, int max)
    {
        string text = new('a', length);
        string cut = LogRecordLimits.Truncate(text, max)!;
        Assert.Equal(Math.Min(length, max), cut.Length);
        Assert.Equal(length > max, cut.EndsWith("…(truncated)", StringComparison.Ordinal));
    }

    [Fact]
    public void Truncate_NeverSplitsASurrogatePair()
    {
        string text = string.Concat(Enumerable.Repeat("\U0001F600", 100));
        string cut = LogRecordLimits.Truncate(text, 33)!;
        Assert.False(char.IsHighSurrogate(cut[cut.Length - "…(truncated)".Length - 1]));
    }
}
