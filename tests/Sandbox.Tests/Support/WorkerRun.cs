using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace IpcChannel.Sandbox.Tests.Support;

/// <summary>What a test worker did: exit code, output, and its <c>RESULT &lt;context&gt; &lt;outcome&gt;</c> lines.</summary>
public sealed record WorkerRun(int ExitCode, string Output, string Error, TimeSpan Elapsed, bool KilledBySignal)
{
    /// <summary>The four contexts every probe runs in.</summary>
    public static readonly string[] Contexts = ["main", "early-thread", "new-thread", "thread-pool"];

    /// <summary>Lines that start with <paramref name="tag"/> and a space, without the tag.</summary>
    public IEnumerable<string> Lines(string tag) =>
        Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith(tag + " ", StringComparison.Ordinal))
            .Select(line => line[(tag.Length + 1)..].TrimEnd('\r'));

    /// <summary>The outcome per context of one probe (<c>RESULT &lt;probe&gt; &lt;context&gt; &lt;outcome&gt;</c>).</summary>
    public IReadOnlyDictionary<string, string> Results(string probe) =>
        Lines("RESULT")
            .Select(line => line.Split(' ', 3))
            .Where(parts => parts[0] == probe)
            .ToDictionary(parts => parts[1], parts => parts.Length > 2 ? parts[2] : "", StringComparer.Ordinal);

    /// <summary>Asserts that one probe's outcome satisfies <paramref name="expected"/> in every context.</summary>
    /// <param name="probe">The probe's name (or label).</param>
    /// <param name="expected">The test of an outcome.</param>
    /// <param name="what">What was expected, for the message.</param>
    public void AssertEverywhere(string probe, Func<string, bool> expected, string what)
    {
        IReadOnlyDictionary<string, string> results = Results(probe);
        foreach (string context in Contexts)
        {
            Assert.True(results.TryGetValue(context, out string? outcome), $"no result for {probe} on {context}\n{this}");
            Assert.True(expected(outcome), $"{probe} on {context}: expected {what}, got {outcome}\n{this}");
        }
    }

    /// <summary>Everything, for assertion messages.</summary>
    public override string ToString() => $"exit {ExitCode}{(KilledBySignal ? " (signal)" : "")} after {Elapsed.TotalMilliseconds:F0} ms\nstdout:\n{Output}\nstderr:\n{Error}";
}
