using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;

namespace IpcChannel.Bench;

/// <summary>
/// One program, four roles: the orchestrator (what you run), a runner per placement pass (the parent of the
/// cross-process scenarios), the child (the other process), and the live-channels probe.
/// <code>
/// dotnet run -c Release --project bench/IpcChannel.Bench -- --quick   # about 2 minutes; writes docs/benchmarks.*
/// dotnet run -c Release --project bench/IpcChannel.Bench -- --full    # 10× the iterations
/// dotnet run -c Release --project bench/IpcChannel.Bench -- --smoke   # every scenario, a few iterations, checks only
/// </code>
/// Options: --out DIR (where benchmarks.md/json/png go), --no-cross (skip the cross-CPU pass),
/// --max-load X and --wait-minutes M (wait until the 1-minute load average is below X first),
/// --render [FILE] (rewrite benchmarks.md and .png from a recorded benchmarks.json, e.g. after the profile notes changed).
/// </summary>
public static class Program
{
    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static int Main(string[] argv)
    {
        Dictionary<string, string> args = Parse(argv);
        if (args.ContainsKey("child"))
        {
            return Child.Run(args);
        }

        if (args.ContainsKey("runner"))
        {
            return Runner.Run(args);
        }

        if (args.TryGetValue("live", out string? live))
        {
            return InProcess.LiveChannels(int.Parse(live, CultureInfo.InvariantCulture));
        }

        return Orchestrate(args, argv);
    }

    internal static Plan PlanFor(string mode) => mode switch
    {
        "smoke" => Plan.Smoke,
        "full" => Plan.Full,
        _ => Plan.Quick,
    };

    private static Dictionary<string, string> Parse(string[] argv)
    {
        var args = new Dictionary<string, string>();
        for (int i = 0; i < argv.Length; i++)
        {
            if (!argv[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{argv[i]}'");
            }

            string key = argv[i][2..];
            bool hasValue = i + 1 < argv.Length && !argv[i + 1].StartsWith("--", StringComparison.Ordinal);
            args[key] = hasValue ? argv[++i] : "";
        }

        return args;
    }

    private static int Orchestrate(Dictionary<string, string> args, string[] argv)
    {
        if (args.TryGetValue("render", out string? recorded))
        {
            return Render(string.IsNullOrEmpty(recorded) ? Path.Combine(RepoRoot(), "docs", "benchmarks.json") : Path.GetFullPath(recorded));
        }

        string mode = args.ContainsKey("smoke") ? "smoke" : args.ContainsKey("full") ? "full" : "quick";
        Plan plan = PlanFor(mode);
        string outDir = args.GetValueOrDefault("out") is { Length: > 0 } o
            ? Path.GetFullPath(o)
            : plan.IsSmoke ? Path.Combine(Path.GetTempPath(), $"ipcbench-smoke-{Environment.ProcessId}") : Path.Combine(RepoRoot(), "docs");
        Directory.CreateDirectory(outDir);
        string work = Path.Combine(Path.GetTempPath(), $"ipcbench-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        if (args.TryGetValue("max-load", out string? maxLoadText))
        {
            WaitForLoad(double.Parse(maxLoadText, CultureInfo.InvariantCulture), double.Parse(args.GetValueOrDefault("wait-minutes", "30"), CultureInfo.InvariantCulture));
        }

        // Dated and timed from here: the wait for a quiet machine is not part of the run.
        var started = DateTimeOffset.UtcNow;
        Stopwatch total = Stopwatch.StartNew();

        var meta = new Meta
        {
            Mode = mode,
            Command = "dotnet run -c Release --project bench/IpcChannel.Bench -- " + string.Join(' ', argv),
            DateUtc = started.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Machine = MachineDescription(),
            Kernel = ReadOrEmpty("/proc/sys/kernel/osrelease").Trim(),
            Runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            Cpus = Environment.ProcessorCount,
            GitCommit = Git("rev-parse --short HEAD"),
            LoadAtStart = Placement.LoadAverage(),
        };

        string? cFloor = CompileCFloor(work, out string gccNote);
        meta.CFloor = gccNote;
        Console.Error.WriteLine($"ipcbench {mode}: {meta.Machine}, kernel {meta.Kernel}, load {string.Join(' ', meta.LoadAtStart)}; {gccNote}");

        var results = new List<Result>();
        var passes = new List<(string Name, int ChildCpu, bool InProcess)> { ("same-cpu", -1, true) };
        if (Environment.ProcessorCount >= 2 && !args.ContainsKey("no-cross"))
        {
            passes.Add(("cross-cpu", 1, false));
        }

        foreach ((string name, int childCpu, bool inProcess) in passes)
        {
            double[] load = Placement.LoadAverage();
            meta.LoadBeforePass[name] = load;
            string output = Path.Combine(work, $"{name}.json");
            ProcessStartInfo start = Placement.Self();
            foreach (string arg in (string[])["--runner", name, "--plan", mode, "--out", output, "--child-cpu", childCpu.ToString(CultureInfo.InvariantCulture), "--cfloor", cFloor ?? ""])
            {
                start.ArgumentList.Add(arg);
            }

            if (inProcess)
            {
                start.ArgumentList.Add("--in-process");
            }

            Console.Error.WriteLine($"ipcbench: pass {name} (parent on CPU 0, child on {(childCpu < 0 ? "CPU 0" : $"CPU {childCpu}")}), load {string.Join(' ', load)}");
            using Process runner = Placement.Start(start, 0);
            runner.WaitForExit();
            if (runner.ExitCode != 0 || !File.Exists(output))
            {
                results.Add(new Result { Placement = name, Scenario = "runner", Impl = "runner", Error = $"the runner exited with {runner.ExitCode}" });
                continue;
            }

            results.AddRange(JsonSerializer.Deserialize<List<Result>>(File.ReadAllText(output), JsonOptions) ?? []);
        }

        meta.LoadAtEnd = Placement.LoadAverage();
        meta.Seconds = total.Elapsed.TotalSeconds;
        var report = new Report(meta, results, plan);
        report.Write(outDir);
        Console.Error.WriteLine($"ipcbench: wrote {outDir}/benchmarks.md, .json, .png in {meta.Seconds:F0} s");
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (IOException)
        {
        }

        if (plan.IsSmoke)
        {
            List<string> problems = report.SmokeProblems();
            foreach (string problem in problems)
            {
                Console.Error.WriteLine($"SMOKE FAIL: {problem}");
            }

            Console.Out.WriteLine(problems.Count == 0 ? $"smoke: {results.Count} results, all sane" : $"smoke: {problems.Count} problem(s)");
            return problems.Count == 0 ? 0 : 1;
        }

        Console.Out.WriteLine(report.GoalsText());
        return 0;
    }

    /// <summary>
    /// Writes benchmarks.md and .png again, beside <paramref name="json"/>, from the results it recorded (after
    /// docs/benchmarks-profile.md changed): nothing is measured, the run's date, commit and load stay.
    /// </summary>
    private static int Render(string json)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(json));
        Meta meta = document.RootElement.GetProperty("meta").Deserialize<Meta>(JsonOptions) ?? throw new InvalidDataException($"{json} has no meta");
        List<Result> results = document.RootElement.GetProperty("results").Deserialize<List<Result>>(JsonOptions) ?? throw new InvalidDataException($"{json} has no results");
        var report = new Report(meta, results, PlanFor(meta.Mode));
        report.Write(Path.GetDirectoryName(json)!);
        Console.Error.WriteLine($"ipcbench: rendered {Path.GetDirectoryName(json)}/benchmarks.md from {json} (run of {meta.DateUtc}, commit {meta.GitCommit})");
        Console.Out.WriteLine(report.GoalsText());
        return 0;
    }

    private static void WaitForLoad(double maxLoad, double minutes)
    {
        var deadline = DateTime.UtcNow.AddMinutes(minutes);
        while (Placement.LoadAverage()[0] >= maxLoad && DateTime.UtcNow < deadline)
        {
            Console.Error.WriteLine($"ipcbench: load {Placement.LoadAverage()[0]} ≥ {maxLoad}, waiting");
            Thread.Sleep(15_000);
        }
    }

    private static string? CompileCFloor(string work, out string note)
    {
        string source = Path.Combine(AppContext.BaseDirectory, "native", "rawfloor.c");
        string binary = Path.Combine(work, "rawfloor");
        try
        {
            var start = new ProcessStartInfo { FileName = "gcc", UseShellExecute = false, RedirectStandardError = true };
            foreach (string arg in (string[])["-O2", "-o", binary, source])
            {
                start.ArgumentList.Add(arg);
            }

            using Process gcc = Process.Start(start)!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode == 0)
            {
                note = $"C floor: bench/IpcChannel.Bench/native/rawfloor.c built with {Git("--version", "gcc").Split('\n')[0]} -O2";
                return binary;
            }

            note = $"C floor: gcc failed ({errors.Trim()}); ratios use the .NET floor";
            return null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            note = "C floor: gcc not found; ratios use the .NET floor";
            return null;
        }
    }

    internal static string RepoRoot()
    {
        foreach (string start in (string[])[Directory.GetCurrentDirectory(), AppContext.BaseDirectory])
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "IpcChannel.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private static string MachineDescription()
    {
        string? model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        string? memory = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        string ram = memory is not null && long.TryParse(memory.Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb)
            ? string.Create(CultureInfo.InvariantCulture, $"{kb / 1048576.0:F1} GiB")
            : "?";
        return $"{model ?? "unknown CPU"}, {Environment.ProcessorCount} vCPU, {ram} RAM";
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string Git(string arguments, string program = "git")
    {
        try
        {
            var start = new ProcessStartInfo(program, arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot() };
            using Process process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : "";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}

/// <summary>What a run was: machine, time, load, command.</summary>
internal sealed class Meta
{
    public string Mode { get; set; } = "";

    public string Command { get; set; } = "";

    public string DateUtc { get; set; } = "";

    public string Machine { get; set; } = "";

    public string Kernel { get; set; } = "";

    public string Runtime { get; set; } = "";

    public int Cpus { get; set; }

    public string GitCommit { get; set; } = "";

    public string CFloor { get; set; } = "";

    public double[] LoadAtStart { get; set; } = [];

    public Dictionary<string, double[]> LoadBeforePass { get; set; } = new();

    public double[] LoadAtEnd { get; set; } = [];

    public double Seconds { get; set; }
}
