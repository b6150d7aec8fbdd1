using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace IpcChannel.Bench.Tests;

public class BenchSmokeTests
{
    /// <summary>
    /// The benchmark harness in --smoke mode runs every scenario (cross-process, baselines, C floor when gcc is
    /// there, in-process) for a few iterations and exits 0 only when each produced sane results. Speed is not
    /// checked: CI machines are shared. The cross-CPU pass is left out (--no-cross) to stay well under a minute on a
    /// loaded machine: it runs the same scenarios, only the child's CPU differs, and quick/full runs cover it.
    /// </summary>
    [Fact(Timeout = 90_000)]
    public async Task Harness_SmokeMode_EveryScenarioProducesSaneResults()
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, "IpcChannel.Bench");
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (File.Exists(apphost))
        {
            start.FileName = apphost;
        }
        else
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "IpcChannel.Bench.dll"));
        }

        string output = Path.Combine(Path.GetTempPath(), $"ipcbench-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        foreach (string arg in (string[])["--smoke", "--no-cross", "--out", output])
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using Process process = Process.Start(start)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(80));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            string text = await stdout;
            string errors = await stderr;
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{text}\n{errors}");
            Assert.Contains("all sane", text, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(output, "benchmarks.md")), "no benchmarks.md");
            Assert.True(File.Exists(Path.Combine(output, "benchmarks.json")), "no benchmarks.json");
        }
        finally
        {
            try
            {
                Directory.Delete(output, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
