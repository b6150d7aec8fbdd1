using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor;

// The benchmark's worker and its phase marks; compiled into Supervisor.Bench (relaunched as its own worker) and into
// Supervisor.AotWorker (the same worker published with NativeAOT, launched through IpcWorkerOptions.Executable).

/// <summary>Echoes requests.</summary>
public sealed class EchoWorker : IpcWorker<string, string>
{
    private bool _answered;

    public EchoWorker() => Phases.Mark("child: worker constructed");

    protected override ValueTask<string> OnRequestAsync(string request, CancellationToken cancellationToken)
    {
        if (!_answered)
        {
            _answered = true;
            Phases.Mark("child: first request received");
            Phases.MarkCpu();
        }

        return ValueTask.FromResult(request);
    }
}

/// <summary>
/// Phase timestamps of a traced cold start, parent and child in one file (BENCH_PHASES names it; the child inherits
/// it). Stopwatch is CLOCK_MONOTONIC on Linux, the same clock in every process, so the marks line up.
/// </summary>
internal static class Phases
{
    public const string Variable = "BENCH_PHASES";
    private static readonly string? File = Environment.GetEnvironmentVariable(Variable);

    public static void Mark(string what)
    {
        long now = Stopwatch.GetTimestamp();
        if (File is not null)
        {
            System.IO.File.AppendAllText(File, $"{now} {what}\n");
        }
    }

    /// <summary>The child's CPU time (user + sys) so far.</summary>
    public static void MarkCpu()
    {
        if (File is not null)
        {
            Environment.ProcessCpuUsage cpu = Environment.CpuUsage;
            System.IO.File.AppendAllText(File, $"cpu {cpu.UserTime.TotalMilliseconds:0.0} {cpu.PrivilegedTime.TotalMilliseconds:0.0} {System.Runtime.JitInfo.GetCompiledMethodCount()} {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0.0} {AppDomain.CurrentDomain.GetAssemblies().Length}\n");
        }
    }
}
