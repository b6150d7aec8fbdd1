using System;
using System.Collections.Generic;
using System.Linq;

namespace IpcChannel.Bench;

/// <summary>How much work a run does.</summary>
internal sealed record Plan(string Mode, int SmallIterations, int Iterations64K, int Iterations1M, int Iterations16M, int WarmupMilliseconds,
    int RateCount, int RateBatches, int FdIterations, int CreateIterations, int SelectIterations, int LiveChannels, int AllocMessages)
{
    public static Plan Smoke { get; } = new("smoke", 5, 5, 2, 1, 0, 200, 2, 5, 50, 5, 200, 50);

    public static Plan Quick { get; } = new("quick", 4000, 1000, 100, 12, 150, 50_000, 3, 1000, 20_000, 2000, 10_000, 10_000);

    public static Plan Full { get; } = new("full", 40_000, 10_000, 1000, 100, 600, 200_000, 10, 10_000, 200_000, 20_000, 10_000, 100_000);

    public bool IsSmoke => Mode == "smoke";

    public int IterationsFor(long size) => size switch
    {
        <= 1024 => SmallIterations,
        <= 65536 => Iterations64K,
        <= 1 << 20 => Iterations1M,
        _ => Iterations16M,
    };

    /// <summary>Warm-up: at least this many round trips, and (outside smoke) at least WarmupMilliseconds of them.</summary>
    public int WarmupIterationsFor(long size) => Math.Max(IsSmoke ? 1 : 2, IterationsFor(size) / 10);

    public static long[] Sizes { get; } = [8, 1024, 64 * 1024, 1 << 20, 16 << 20];
}

/// <summary>One measured figure.</summary>
internal sealed class Result
{
    /// <summary>"same-cpu", "cross-cpu" or "in-process".</summary>
    public string Placement { get; set; } = "";

    /// <summary>"roundtrip", "rate", "fds", "shm", "create", "alloc", "select", "live-channels", "memcpy".</summary>
    public string Scenario { get; set; } = "";

    /// <summary>Which implementation: ipc-bytes, ipc-typed, c-raw, net-raw, pipes, uds-socket, msgpack-socket...</summary>
    public string Impl { get; set; } = "";

    /// <summary>Payload bytes, descriptor count, or N of a receiver set.</summary>
    public long Size { get; set; }

    /// <summary>Extra parameter (M of a receiver set).</summary>
    public long Param { get; set; }

    public int Iterations { get; set; }

    public int WarmupIterations { get; set; }

    public double MeanUs { get; set; }

    public double MedianUs { get; set; }

    public double P99Us { get; set; }

    /// <summary>Messages per second (rate scenarios).</summary>
    public double? Rate { get; set; }

    /// <summary>Managed bytes the measuring thread allocated per operation.</summary>
    public double? AllocBytesPerOp { get; set; }

    /// <summary>Free-form extra values (fds, memory...).</summary>
    public Dictionary<string, double>? Extra { get; set; }

    public string? Note { get; set; }

    public string? Error { get; set; }

    public static Result FromSamples(string placement, string scenario, string impl, long size, ReadOnlySpan<double> samplesUs, int warmup)
    {
        double[] sorted = samplesUs.ToArray();
        Array.Sort(sorted);
        var result = new Result { Placement = placement, Scenario = scenario, Impl = impl, Size = size, Iterations = sorted.Length, WarmupIterations = warmup };
        if (sorted.Length > 0)
        {
            result.MeanUs = sorted.Average();
            result.MedianUs = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
            result.P99Us = sorted[Math.Max(0, (int)Math.Ceiling(0.99 * sorted.Length) - 1)];
        }

        return result;
    }

    /// <summary>Checks the figure is usable: the scenario ran and produced finite, positive numbers.</summary>
    public string? Sanity()
    {
        if (Error is not null)
        {
            return Error;
        }

        if (Iterations <= 0)
        {
            return "no iterations";
        }

        double[] values = Rate is double rate ? [rate] : [MeanUs, MedianUs, P99Us];
        foreach (double value in values)
        {
            if (!double.IsFinite(value) || value <= 0)
            {
                return $"non-positive or non-finite figure {value}";
            }
        }

        if (Rate is null && (MedianUs > P99Us * 1.000001))
        {
            return $"median {MedianUs} above p99 {P99Us}";
        }

        return null;
    }

    public override string ToString() =>
        Error is not null
            ? $"{Placement,-10} {Scenario,-13} {Impl,-16} {Size,10}  ERROR {Error}"
            : Rate is double r
                ? $"{Placement,-10} {Scenario,-13} {Impl,-16} {Size,10}  {r / 1e6,8:F3} M msg/s"
                : $"{Placement,-10} {Scenario,-13} {Impl,-16} {Size,10}  mean {MeanUs,10:F2} µs  median {MedianUs,10:F2}  p99 {P99Us,10:F2}  n={Iterations}{(AllocBytesPerOp is double a ? $"  alloc {a:F1} B/op" : "")}";
}
