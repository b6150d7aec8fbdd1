using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace IpcChannel.Bench;

/// <summary>One line of the goals table.</summary>
internal sealed record Goal(string What, string Target, string Measured, bool? Pass, string Detail);

/// <summary>Turns the results into docs/benchmarks.md, .json and .png, and judges the goals.</summary>
internal sealed class Report(Meta meta, List<Result> results, Plan plan)
{
    private const string Same = "same-cpu";
    private const string Cross = "cross-cpu";
    private const string InProc = "in-process";

    private static readonly string[] s_roundTripImpls = ["ipc-bytes", "ipc-typed", "net-raw", "c-raw", "pipes", "uds-socket", "msgpack-socket"];
    private static readonly string[] s_rateImpls = ["ipc-bytes", "ipc-typed", "net-raw", "c-raw", "pipes", "uds-socket", "msgpack-socket"];

    private List<Goal>? _goals;

    public List<Goal> Goals => _goals ??= JudgeGoals();

    private Result? Get(string placement, string scenario, string impl, long size) =>
        results.FirstOrDefault(r => r.Placement == placement && r.Scenario == scenario && r.Impl == impl && r.Size == size && r.Error is null);

    private Result? Get(string placement, string scenario, string impl) =>
        results.FirstOrDefault(r => r.Placement == placement && r.Scenario == scenario && r.Impl == impl && r.Error is null);

    /// <summary>The floor a ratio is taken against: the C one when it ran, else the .NET raw one.</summary>
    private Result? Floor(string placement, string scenario, long size) =>
        Get(placement, scenario, "c-raw", size) ?? Get(placement, scenario, "net-raw", size);

    private static string Size(long bytes) => bytes switch
    {
        >= 1 << 20 when bytes % (1 << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1024 when bytes % 1024 == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };

    private static string Us(double us) => us switch
    {
        >= 10_000 => string.Create(CultureInfo.InvariantCulture, $"{us / 1000:F1} ms"),
        >= 1000 => string.Create(CultureInfo.InvariantCulture, $"{us / 1000:F2} ms"),
        >= 100 => string.Create(CultureInfo.InvariantCulture, $"{us:F0} µs"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{us:F2} µs"),
    };

    private static string X(double ratio) => double.IsFinite(ratio) ? string.Create(CultureInfo.InvariantCulture, $"{ratio:F2}×") : "—";

    private static string F(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);

    // ------------------------------------------------------------------ goals

    private List<Goal> JudgeGoals()
    {
        var goals = new List<Goal>();
        string floorName = Get(Same, "roundtrip", "c-raw", 8) is null ? ".NET raw floor (no gcc)" : "C floor";

        Goal RatioGoal(string what, string target, double limit, Result? value, Result? floor, bool atMost = true, string? detail = null)
        {
            if (value is null || floor is null)
            {
                return new Goal(what, target, "not measured", null, detail ?? "");
            }

            double ratio = value.MeanUs / floor.MeanUs;
            bool pass = atMost ? ratio <= limit : ratio >= limit;
            string median = floor.MedianUs > 0 && floor.MedianUs != floor.MeanUs ? $"; medians {X(value.MedianUs / floor.MedianUs)}" : "";
            return new Goal(what, target, $"{X(ratio)} ({Us(value.MeanUs)} vs {Us(floor.MeanUs)}{median})", pass, detail ?? "");
        }

        // 1-2. Bytes channel round trips against the C floor.
        foreach ((long size, double limit) in ((long, double)[])[(8, 1.05), (1024, 1.05), (64 * 1024, 1.0), (1 << 20, 0.9), (16 << 20, 0.6)])
        {
            goals.Add(RatioGoal($"bytes channel round trip, {Size(size)}", $"≤ {F(limit, "0.00")}× {floorName}", limit,
                Get(Same, "roundtrip", "ipc-bytes", size), Floor(Same, "roundtrip", size)));
        }

        // 3. Typed small record against the C floor at the same serialized size.
        Result? small = Get(Same, "roundtrip", "ipc-typed-small");
        Result? smallFloor = small is null ? null : Get(Same, "roundtrip", "c-raw-small", small.Size) ?? Floor(Same, "roundtrip", 8);
        goals.Add(RatioGoal("typed round trip, small record (int, string, byte[8])", $"≤ 1.20× {floorName}", 1.20, small, smallFloor,
            detail: small is null ? "" : $"floor measured at the record's {small.Size} serialized bytes"));

        // 4. Typed record with a byte[] against the bytes channel at that size.
        foreach (long size in (long[])[64 * 1024, 1 << 20, 16 << 20])
        {
            goals.Add(RatioGoal($"typed round trip, record with byte[{Size(size)}]", "≤ 1.3× bytes channel", 1.3,
                Get(Same, "roundtrip", "ipc-typed", size), Get(Same, "roundtrip", "ipc-bytes", size)));
        }

        // 5. One-way rates (higher is better).
        Result? cRate = Get(Same, "rate", "c-raw") ?? Get(Same, "rate", "net-raw");
        foreach ((string impl, double limit) in ((string, double)[])[("ipc-bytes", 0.95), ("ipc-typed", 0.8)])
        {
            Result? rate = Get(Same, "rate", impl);
            if (rate?.Rate is double r && cRate?.Rate is double c)
            {
                goals.Add(new Goal($"one-way 64 B rate, {(impl == "ipc-bytes" ? "bytes" : "typed")}", $"≥ {F(limit, "0.00")}× {floorName}",
                    $"{X(r / c)} ({F(r / 1e6, "F2")} vs {F(c / 1e6, "F2")} M msg/s)", r / c >= limit, ""));
            }
            else
            {
                goals.Add(new Goal($"one-way 64 B rate, {impl}", $"≥ {F(limit, "0.00")}×", "not measured", null, ""));
            }
        }

        // 6. Shared memory against a plain memcpy (throughput ratio = memcpy time / shm time).
        Result? shm = Get(Same, "shm", "ipc-shm", 16 << 20);
        Result? memcpy = Get(InProc, "memcpy", "c-memcpy", 16 << 20) ?? Get(InProc, "memcpy", "net-memcpy", 16 << 20);
        goals.Add(shm is null || memcpy is null
            ? new Goal("16 MiB through IpcSharedMemory, fill to read", "≥ 0.8× memcpy", "not measured", null, "")
            : new Goal("16 MiB through IpcSharedMemory, fill to read", "≥ 0.8× memcpy of 16 MiB",
                $"{X(memcpy.MeanUs / shm.MeanUs)} ({Us(shm.MeanUs)} vs {Us(memcpy.MeanUs)} for {memcpy.Impl})", memcpy.MeanUs / shm.MeanUs >= 0.8,
                "throughput ratio: memcpy time ÷ shared-memory time"));

        // 7. Channel creation.
        goals.Add(RatioGoal("channel creation (pair, then dispose)", "≤ 1.5× raw socketpair + 2 closes", 1.5,
            Get(InProc, "create", "ipc-typed"), Get(InProc, "create", "c-raw") ?? Get(InProc, "create", "net-raw"), detail: "Ipc.Channel<int>() + 2 Dispose vs C socketpair + 2 close"));

        // 8. 64 senders.
        goals.Add(RatioGoal("a message carrying 64 senders, round trip", "≤ 1.5× raw sendmsg of 64 fds", 1.5,
            Get(Same, "fds", "ipc-typed", 64), Get(Same, "fds", "c-raw", 64) ?? Get(Same, "fds", "net-raw", 64)));

        // 9. Allocations.
        List<Result> allocs = results.Where(r => r.Placement == InProc && r.Scenario == "alloc" && r.Impl == "ipc-bytes" && r.Error is null).ToList();
        if (allocs.Count == 0)
        {
            goals.Add(new Goal("allocations per bytes-channel message (IBufferWriter receive)", "0 B", "not measured", null, ""));
        }
        else
        {
            double worst = allocs.Max(r => r.AllocBytesPerOp ?? 0);
            string bySize = string.Join(", ", allocs.Select(r => $"{Size(r.Size)}: {F(r.AllocBytesPerOp ?? 0)} B"));
            goals.Add(new Goal("allocations per bytes-channel message, steady state (IBufferWriter receive)", "0 B",
                $"{F(worst)} B/msg (worst size)", worst < 0.5, bySize));
        }

        // 10. Every .NET alternative slower than IpcChannel (pipes at ≤ 1 KiB: within 5 %).
        var failures = new List<string>();
        var worstCases = new List<string>();
        int compared = 0;
        foreach (long size in Plan.Sizes)
        {
            Result? bytes = Get(Same, "roundtrip", "ipc-bytes", size);
            Result? typed = Get(Same, "roundtrip", "ipc-typed", size);
            foreach ((string alt, Result? ours) in ((string, Result?)[])[("pipes", bytes), ("uds-socket", bytes), ("msgpack-socket", typed)])
            {
                Result? other = Get(Same, "roundtrip", alt, size);
                if (ours is null || other is null)
                {
                    continue;
                }

                compared++;
                double ratio = ours.MeanUs / other.MeanUs;
                double limit = alt == "pipes" && size <= 1024 ? 1.05 : 1.0;
                if (ratio > limit)
                {
                    failures.Add($"{alt} {Size(size)}: IpcChannel at {X(ratio)} of it");
                }
            }
        }

        Result? ourRate = Get(Same, "rate", "ipc-bytes");
        foreach (string alt in (string[])["pipes", "uds-socket", "msgpack-socket"])
        {
            Result? other = Get(Same, "rate", alt);
            Result? ours = alt == "msgpack-socket" ? Get(Same, "rate", "ipc-typed") : ourRate;
            if (ours?.Rate is double a && other?.Rate is double b)
            {
                _ = a;
                if (a < b)
                {
                    worstCases.Add($"64 B rate vs {alt}: {X(a / b)}");
                }
            }
        }

        goals.Add(compared == 0
            ? new Goal("every .NET alternative slower than IpcChannel", "all sizes", "not measured", null, "")
            : new Goal("every .NET alternative slower than IpcChannel (pipes ≤ 1 KiB: within 5 %)", "round trip, every size (bytes vs pipes and socket, typed vs MessagePack)",
                failures.Count == 0 ? $"all {compared} slower" : $"{failures.Count} of {compared} comparisons lose", failures.Count == 0,
                string.Join("; ", failures.Concat(worstCases.Select(w => $"(info) {w}")))));
        return goals;
    }

    public string GoalsText()
    {
        var text = new StringBuilder("goals (same-CPU placement):\n");
        foreach (Goal goal in Goals)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {(goal.Pass is null ? "n/a " : goal.Pass.Value ? "PASS" : "MISS")}  {goal.What}: {goal.Measured} (target {goal.Target})");
        }

        return text.ToString();
    }

    // ------------------------------------------------------------------ smoke

    public List<string> SmokeProblems()
    {
        var problems = new List<string>();
        foreach (Result r in results)
        {
            if (r.Sanity() is string problem)
            {
                problems.Add($"{r.Placement} {r.Scenario} {r.Impl} {r.Size}: {problem}");
            }
        }

        // Every scenario must be there.
        var expected = new List<(string Placement, string Scenario, string Impl, long Size)>();
        var placements = results.Select(r => r.Placement).Where(p => p is Same or Cross).Distinct().ToList();
        if (!placements.Contains(Same))
        {
            problems.Add("the same-CPU pass produced nothing");
        }

        bool haveC = results.Any(r => r.Impl == "c-raw");
        foreach (string placement in placements)
        {
            foreach (long size in Plan.Sizes)
            {
                foreach (string impl in s_roundTripImpls.Where(i => haveC || i != "c-raw"))
                {
                    expected.Add((placement, "roundtrip", impl, size));
                }
            }

            foreach (string impl in s_rateImpls.Where(i => haveC || i != "c-raw"))
            {
                expected.Add((placement, "rate", impl, 64));
            }

            foreach (long n in (long[])[0, 1, 8, 64])
            {
                expected.Add((placement, "fds", "ipc-typed", n));
                expected.Add((placement, "fds", "net-raw", n));
            }

            expected.Add((placement, "shm", "ipc-shm", 16 << 20));
        }

        expected.Add((InProc, "create", "ipc-typed", 0));
        expected.Add((InProc, "create", "net-raw", 0));
        expected.Add((InProc, "memcpy", "net-memcpy", 16 << 20));
        foreach (long size in (long[])[8, 1024, 64 * 1024, 1 << 20])
        {
            expected.Add((InProc, "alloc", "ipc-bytes", size));
        }

        foreach (long n in (long[])[1, 10, 100])
        {
            expected.Add((InProc, "select", "ipc-typed", n));
        }

        expected.Add((InProc, "live-channels", "ipc-typed", plan.LiveChannels));
        foreach ((string placement, string scenario, string impl, long size) in expected)
        {
            if (!results.Any(r => r.Placement == placement && r.Scenario == scenario && r.Impl == impl && r.Size == size))
            {
                problems.Add($"missing: {placement} {scenario} {impl} {size}");
            }
        }

        if (!results.Any(r => r.Scenario == "roundtrip" && r.Impl == "ipc-typed-small"))
        {
            problems.Add("missing: typed small record round trip");
        }

        return problems;
    }

    // ------------------------------------------------------------------ output

    public void Write(string directory)
    {
        var json = new { meta, goals = Goals, results };
        File.WriteAllText(Path.Combine(directory, "benchmarks.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions(Program.JsonOptions) { WriteIndented = true }));
        string chartNote = Chart.Write(Path.Combine(directory, "benchmarks.png"), results);
        string path = Path.Combine(directory, "benchmarks.md");
        File.WriteAllText(path, Markdown(directory, chartNote) + KeptSections(path));
    }

    /// <summary>Marks where sections written by other harnesses (the supervisor's) start; a rerun keeps them.</summary>
    internal const string KeptMarker = "<!-- sections below are recorded by other harnesses; ipcbench keeps them -->";

    private static string KeptSections(string path)
    {
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        string old = File.ReadAllText(path);
        int at = old.IndexOf(KeptMarker, StringComparison.Ordinal);
        return at < 0 ? string.Empty : Environment.NewLine + old[at..];
    }

    private string Markdown(string directory, string chartNote)
    {
        var md = new StringBuilder();
        md.AppendLine("# IpcChannel benchmarks");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Generated by `{meta.Command}` ({meta.Mode} mode, {F(meta.Seconds, "F0")} s) on {meta.DateUtc}, commit `{meta.GitCommit}`.");
        md.AppendLine("Do not edit by hand: rerun the command. The profile analysis under *Where the time goes* comes from `docs/benchmarks-profile.md`.");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| machine | {meta.Machine} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| kernel | Linux {meta.Kernel} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| runtime | {meta.Runtime}; GC: workstation, non-concurrent, `System.GC.LOHThreshold` = {AppContext.GetData("System.GC.LOHThreshold") ?? "default"} bytes (bench/IpcChannel.Bench/runtimeconfig.template.json, for every .NET implementation: see *Typed record carrying a byte[]* in the profile notes) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| C floor | {meta.CFloor} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| load average (1/5/15 min) | start {Load(meta.LoadAtStart)}; {string.Join("; ", meta.LoadBeforePass.Select(p => $"before {p.Key} pass {Load(p.Value)}"))}; end {Load(meta.LoadAtEnd)} |");
        md.AppendLine("| placement | **same-CPU**: parent and child both pinned to CPU 0 (the goal figures); **cross-CPU**: parent on CPU 0, child on CPU 1 (information only) |");
        md.AppendLine("| timing | every round trip timed alone (Stopwatch); mean, median and p99 over the measured iterations, after a warm-up of at least 10 % of the count and " + plan.WarmupMilliseconds + " ms (1 s for an implementation's first loop, so tiered compilation is done) |");
        md.AppendLine();
        md.AppendLine("## Goals (same-CPU placement)");
        md.AppendLine();
        md.AppendLine("Judged on means (as the reference figures in BENCHMARKING.md are); the ratio of medians is shown beside it because it resists a busy machine better.");
        md.AppendLine();
        md.AppendLine("| goal | target | measured (mean ratio) | result | detail |");
        md.AppendLine("|---|---|---|:-:|---|");
        foreach (Goal goal in Goals)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {goal.What} | {goal.Target} | {goal.Measured} | {(goal.Pass is null ? "n/a" : goal.Pass.Value ? "PASS" : "**MISS**")} | {goal.Detail} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"![mean round trip relative to the C floor]({Path.GetFileName("benchmarks.png")})");
        md.AppendLine();
        md.AppendLine(chartNote);
        md.AppendLine();

        foreach (string placement in (string[])[Same, Cross])
        {
            if (!results.Any(r => r.Placement == placement))
            {
                continue;
            }

            md.AppendLine(placement == Same ? "## Same CPU (goal placement)" : "## Cross CPU (information: parent CPU 0, child CPU 1)");
            md.AppendLine();
            RoundTripTables(md, placement);
            RateTable(md, placement);
            StrategyTable(md, placement);
            FdTable(md, placement);
            ShmTable(md, placement);
        }

        InProcessTables(md);
        Errors(md);

        md.AppendLine("## Where the time goes");
        md.AppendLine();
        string profile = Path.Combine(Program.RepoRoot(), "docs", "benchmarks-profile.md");
        md.AppendLine(File.Exists(profile) ? File.ReadAllText(profile).Trim() : "(no profile notes yet: write them in docs/benchmarks-profile.md)");
        md.AppendLine();
        md.AppendLine("## How to run");
        md.AppendLine();
        md.AppendLine("```bash");
        md.AppendLine("dotnet run -c Release --project bench/IpcChannel.Bench -- --quick   # ~2 min; writes docs/benchmarks.{md,json,png}");
        md.AppendLine("dotnet run -c Release --project bench/IpcChannel.Bench -- --full    # 10× the iterations");
        md.AppendLine("dotnet run -c Release --project bench/IpcChannel.Bench -- --smoke   # every scenario, a few iterations; exit 0 = all sane");
        md.AppendLine("dotnet run -c Release --project bench/IpcChannel.Benchmarks -- --filter '*'   # in-process BenchmarkDotNet figures");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine("Options: `--out DIR`, `--no-cross`, `--max-load 0.5 --wait-minutes 30` (wait for a quiet machine first), `--render` (rewrite this page from benchmarks.json after the profile notes changed; nothing is measured).");
        return md.ToString();
    }

    private static string Load(double[] load) => string.Join("/", load.Select(l => F(l, "F2")));

    private void RoundTripTables(StringBuilder md, string placement)
    {
        md.AppendLine("### Round trip (parent sends, child echoes, parent receives)");
        md.AppendLine();
        md.AppendLine("Mean / median / p99 per round trip; ×C and ×.NET are mean ÷ the C floor's and the .NET raw floor's mean at that size; alloc is what the parent thread allocated per round trip; GC is the parent's collections (gen0/gen1/gen2) during the measured loop and its GC pause per round trip.");
        md.AppendLine();
        foreach (long size in Plan.Sizes)
        {
            Result? c = Get(placement, "roundtrip", "c-raw", size);
            Result? net = Get(placement, "roundtrip", "net-raw", size);
            md.AppendLine(CultureInfo.InvariantCulture, $"**{Size(size)}** ({(size <= 65536 ? "raw floors on SOCK_SEQPACKET" : "raw floors on SOCK_STREAM")})");
            md.AppendLine();
            md.AppendLine("| implementation | mean | median | p99 | ×C | ×.NET raw | alloc B/op | GC 0/1/2, pause/op | n |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (string impl in s_roundTripImpls)
            {
                Result? r = results.FirstOrDefault(x => x.Placement == placement && x.Scenario == "roundtrip" && x.Impl == impl && x.Size == size);
                if (r is not null)
                {
                    md.AppendLine(Row(Label(impl), r, c, net));
                }
            }

            md.AppendLine();
        }

        Result? small = Get(placement, "roundtrip", "ipc-typed-small");
        if (small is not null)
        {
            Result? c = Get(placement, "roundtrip", "c-raw-small", small.Size);
            md.AppendLine(CultureInfo.InvariantCulture, $"**Small typed record** ({small.Note})");
            md.AppendLine();
            md.AppendLine("| implementation | mean | median | p99 | ×C | ×.NET raw | alloc B/op | GC 0/1/2, pause/op | n |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            md.AppendLine(Row("IpcChannel typed (small record)", small, c, Get(placement, "roundtrip", "net-raw", 8)));
            if (c is not null)
            {
                md.AppendLine(Row($"C floor at {small.Size} B", c, c, Get(placement, "roundtrip", "net-raw", 8)));
            }

            md.AppendLine();
            md.AppendLine("(×.NET raw here is against the .NET raw floor at 8 B.)");
            md.AppendLine();
        }
    }

    private static string Label(string impl) => impl switch
    {
        "ipc-bytes" => "IpcChannel bytes (IBufferWriter receive)",
        "ipc-typed" => "IpcChannel typed record(int, byte[])",
        "net-raw" => ".NET raw socketpair (P/Invoke, the .NET floor)",
        "c-raw" => "C raw socketpair (the OS floor)",
        "pipes" => "anonymous pipes + length prefix",
        "uds-socket" => "Unix socket (System.Net.Sockets) + length prefix",
        "msgpack-socket" => "MessagePack record over the Unix socket",
        _ => impl,
    };

    private static string Row(string label, Result r, Result? c, Result? net)
    {
        if (r.Error is not null)
        {
            return $"| {label} | error: {r.Error} | | | | | | | |";
        }

        string alloc = r.AllocBytesPerOp is double a ? F(a) : "";
        string gc = r.Extra is { } e && e.TryGetValue("gc0", out double g0)
            ? $"{g0:F0}/{e["gc1"]:F0}/{e["gc2"]:F0}, {Us(e["gc_pause_us_per_op"])}"
            : "";
        return $"| {label} | {Us(r.MeanUs)} | {Us(r.MedianUs)} | {Us(r.P99Us)} | {(c is null ? "—" : X(r.MeanUs / c.MeanUs))} | {(net is null ? "—" : X(r.MeanUs / net.MeanUs))} | {alloc} | {gc} | {r.Iterations} |";
    }

    private void RateTable(StringBuilder md, string placement)
    {
        List<Result> rates = results.Where(r => r.Placement == placement && r.Scenario == "rate").ToList();
        if (rates.Count == 0)
        {
            return;
        }

        Result? c = Get(placement, "rate", "c-raw");
        Result? net = Get(placement, "rate", "net-raw");
        md.AppendLine("### One-way rate, 64 B messages");
        md.AppendLine();
        md.AppendLine("The parent sends a batch, the child receives them all and answers once; rate from the median batch.");
        md.AppendLine();
        md.AppendLine("| implementation | M msg/s | ×C | ×.NET raw | µs/msg (median batch) | alloc B/msg |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (string impl in s_rateImpls)
        {
            Result? r = rates.FirstOrDefault(x => x.Impl == impl);
            if (r is null)
            {
                continue;
            }

            if (r.Error is not null || r.Rate is null)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {Label(impl)} | error: {r.Error} | | | | |");
                continue;
            }

            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {Label(impl)} | {F(r.Rate.Value / 1e6, "F3")} | {(c?.Rate is double cr ? X(r.Rate.Value / cr) : "—")} | {(net?.Rate is double nr ? X(r.Rate.Value / nr) : "—")} | {F(r.MedianUs, "F3")} | {(r.AllocBytesPerOp is double a ? F(a) : "")} |");
        }

        md.AppendLine();
    }

    private void StrategyTable(StringBuilder md, string placement)
    {
        List<Result> strategies = results.Where(r => r.Placement == placement && r.Scenario == "strategy" && r.Error is null).ToList();
        if (strategies.Count == 0)
        {
            return;
        }

        md.AppendLine("### Large messages: other ways to move them (C, information for src/)");
        md.AppendLine();
        md.AppendLine("Round trips in C with other transfer strategies, to show what a change in the transport could reach. "
            + "`seqfrag`: SOCK_SEQPACKET fragments of 212,960 B on default buffers (Rust ipc-channel's way); "
            + "`seqfrag4m`: SEQPACKET fragments of 1 MiB with SO_SNDBUF/SO_RCVBUF = 4 MiB (net.core.wmem_max allows it unprivileged); "
            + "`stream4m`: SOCK_STREAM with 4 MiB buffers; `memfd`: a new sealed memfd per message, pwrite + pread (IpcChannel's body path today); "
            + "`memfdpool`: one memfd per direction reused (pwrite, pass a dup, pread).");
        md.AppendLine();
        md.AppendLine("| strategy | 1 MiB mean | ×C floor | 16 MiB mean | ×C floor |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        Result? c1 = Get(placement, "roundtrip", "c-raw", 1 << 20);
        Result? c16 = Get(placement, "roundtrip", "c-raw", 16 << 20);
        Result? b1 = Get(placement, "roundtrip", "ipc-bytes", 1 << 20);
        Result? b16 = Get(placement, "roundtrip", "ipc-bytes", 16 << 20);
        string Cell(Result? r, Result? floor) => r is null ? "— | —" : $"{Us(r.MeanUs)} | {(floor is null ? "—" : X(r.MeanUs / floor.MeanUs))}";
        md.AppendLine(CultureInfo.InvariantCulture, $"| C floor (SOCK_STREAM, default buffers) | {Cell(c1, c1)} | {Cell(c16, c16)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| IpcChannel bytes today | {Cell(b1, c1)} | {Cell(b16, c16)} |");
        foreach (string impl in strategies.Select(r => r.Impl).Distinct())
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {impl[2..]} | {Cell(Get(placement, "strategy", impl, 1 << 20), c1)} | {Cell(Get(placement, "strategy", impl, 16 << 20), c16)} |");
        }

        md.AppendLine();
    }

    private void FdTable(StringBuilder md, string placement)
    {
        List<Result> fds = results.Where(r => r.Placement == placement && r.Scenario == "fds").ToList();
        if (fds.Count == 0)
        {
            return;
        }

        md.AppendLine("### Round trip of a message carrying N senders (descriptors)");
        md.AppendLine();
        md.AppendLine("IpcChannel: `SenderBag(int, List<IpcSender<int>>)` sent and echoed back (every sender moves both ways). Raw: an 8-byte datagram with N descriptors by `sendmsg`/SCM_RIGHTS, each side closing what it sent.");
        md.AppendLine();
        md.AppendLine("| N | IpcChannel typed | .NET raw sendmsg | C raw sendmsg | IpcChannel ×C | alloc B/op |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (long n in (long[])[0, 1, 8, 64])
        {
            Result? ipc = Get(placement, "fds", "ipc-typed", n);
            Result? net = Get(placement, "fds", "net-raw", n);
            Result? c = Get(placement, "fds", "c-raw", n);
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {n} | {(ipc is null ? "—" : Us(ipc.MeanUs))} | {(net is null ? "—" : Us(net.MeanUs))} | {(c is null ? "—" : Us(c.MeanUs))} | {(ipc is null || c is null ? "—" : X(ipc.MeanUs / c.MeanUs))} | {(ipc?.AllocBytesPerOp is double a ? F(a, "F0") : "")} |");
        }

        md.AppendLine();
        md.AppendLine("(means; medians and p99 are in benchmarks.json)");
        md.AppendLine();
    }

    private void ShmTable(StringBuilder md, string placement)
    {
        Result? shm = results.FirstOrDefault(r => r.Placement == placement && r.Scenario == "shm");
        if (shm is null)
        {
            return;
        }

        md.AppendLine("### 16 MiB through IpcSharedMemory");
        md.AppendLine();
        md.AppendLine(shm.Note ?? "");
        md.AppendLine();
        md.AppendLine("| what | mean | median | p99 | GB/s (mean) |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (Result r in results.Where(r => (r.Placement == placement && r.Scenario == "shm") || (r.Placement == InProc && r.Scenario is "memcpy" or "shm-fill")))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Scenario} {r.Impl} | {Us(r.MeanUs)} | {Us(r.MedianUs)} | {Us(r.P99Us)} | {F(r.Size / (r.MeanUs * 1000), "F2")} |");
        }

        md.AppendLine();
    }

    private void InProcessTables(StringBuilder md)
    {
        List<Result> inProc = results.Where(r => r.Placement == InProc).ToList();
        if (inProc.Count == 0)
        {
            return;
        }

        md.AppendLine("## In one process");
        md.AppendLine();
        md.AppendLine("### Channel creation (pair, then dispose both ends)");
        md.AppendLine();
        md.AppendLine("| what | mean | median | p99 | alloc B/op |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (Result r in inProc.Where(r => r.Scenario == "create"))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Impl switch { "ipc-typed" => "Ipc.Channel<int>()", "ipc-bytes" => "Ipc.BytesChannel()", "net-raw" => ".NET socketpair + 2 close (P/Invoke)", "c-raw" => "C socketpair + 2 close", _ => r.Impl }} | {Us(r.MeanUs)} | {Us(r.MedianUs)} | {Us(r.P99Us)} | {(r.AllocBytesPerOp is double a ? F(a, "F0") : "")} |");
        }

        md.AppendLine();
        md.AppendLine("### Allocations per message, steady state");
        md.AppendLine();
        md.AppendLine("| what | size | managed bytes / message | mean µs (send + receive, one thread) |");
        md.AppendLine("|---|---:|---:|---:|");
        foreach (Result r in inProc.Where(r => r.Scenario == "alloc"))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {(r.Impl == "ipc-bytes" ? "bytes channel, Receive(ArrayBufferWriter)" : "typed small record, Receive()")} | {(r.Impl == "ipc-bytes" ? Size(r.Size) : "small record")} | {F(r.AllocBytesPerOp ?? double.NaN)} | {F(r.MeanUs, "F2")} |");
        }

        md.AppendLine();
        md.AppendLine("### Receiver set: M of N ready");
        md.AppendLine();
        md.AppendLine("| N | M | mean per round (M sends + selects) | median | p99 | alloc B/round |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (Result r in inProc.Where(r => r.Scenario == "select"))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Size} | {r.Param} | {Us(r.MeanUs)} | {Us(r.MedianUs)} | {Us(r.P99Us)} | {(r.AllocBytesPerOp is double a ? F(a, "F0") : "")} |");
        }

        md.AppendLine();
        Result? live = inProc.FirstOrDefault(r => r.Scenario == "live-channels");
        if (live?.Extra is Dictionary<string, double> e)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"### {live.Size:N0} live channels in one process");
            md.AppendLine();
            md.AppendLine("| channels open | working | fds / channel | RSS / channel | managed heap / channel | kernel slab delta (machine-wide) | create µs / channel | send+recv µs / channel | dispose µs / channel |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {e["channels"]:N0} | {e["working"]:N0} | {F(e["fds_per_channel"], "F2")} | {F(e["rss_bytes_per_channel"], "F0")} B | {F(e["managed_bytes_per_channel"], "F0")} B | {F(e["kernel_slab_delta_bytes"] / 1048576, "F1")} MiB | {F(e["create_us_per_channel"], "F2")} | {F(e["message_us_per_channel"], "F2")} | {F(e["dispose_us_per_channel"], "F2")} |");
            md.AppendLine();
            if (live.Note is not null)
            {
                md.AppendLine(live.Note);
                md.AppendLine();
            }

            if (live.Error is not null)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"Problem: {live.Error}");
                md.AppendLine();
            }
        }
    }

    private void Errors(StringBuilder md)
    {
        List<Result> errors = results.Where(r => r.Error is not null).ToList();
        if (errors.Count == 0)
        {
            return;
        }

        md.AppendLine("## Errors in this run");
        md.AppendLine();
        foreach (Result r in errors)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {r.Placement} {r.Scenario} {r.Impl} {r.Size}: {r.Error}");
        }

        md.AppendLine();
    }
}
