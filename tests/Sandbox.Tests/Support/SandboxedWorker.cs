using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Sandbox;

namespace IpcChannel.Sandbox.Tests.Support;

/// <summary>
/// Starts tests/Sandbox.TestWorker the way the supervisor will: plan with <see cref="SandboxLauncher"/>, prepare the
/// worker directory, start the returned launch spec with exactly its environment, clean up.
/// </summary>
public static class SandboxedWorker
{
    /// <summary>The machine as the default options see it (detected once per test run).</summary>
    public static readonly Lazy<SandboxMachine> Machine = new(() => SandboxMachine.Detect(new SandboxOptions()));

    /// <summary>The test worker's apphost, copied next to the tests.</summary>
    public static string WorkerProgram => Path.Combine(AppContext.BaseDirectory, "IpcChannel.Sandbox.TestWorker");

    /// <summary>A root for worker directories that the tests own.</summary>
    public static string WorkerRoot { get; } = Path.Combine(Path.GetTempPath(), "ipcchannel-sandbox-tests");

    /// <summary>The strict default sandbox, with the worker directory root of the tests.</summary>
    public static SandboxOptions Strict(Action<SandboxOptions>? adjust = null)
    {
        var options = new SandboxOptions { WorkerDirectoryRoot = WorkerRoot };
        adjust?.Invoke(options);
        return options;
    }

    /// <summary>The sandbox turned off.</summary>
    public static SandboxOptions Off() => new() { Enabled = false, WorkerDirectoryRoot = WorkerRoot };

    /// <summary>Plans, prepares, runs and cleans up one worker (<paramref name="program"/>, by default <see cref="WorkerProgram"/>); returns what it did.</summary>
    public static async Task<WorkerRun> RunAsync(
        SandboxOptions options,
        string scenario,
        IEnumerable<string>? args = null,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null,
        SandboxMachine? machine = null,
        Action<Process>? started = null,
        IReadOnlyDictionary<string, string>? extraInherited = null,
        string? program = null,
        Action<string>? outputLine = null,
        string? serverVariable = null)
    {
        var arguments = new List<string> { scenario };
        arguments.AddRange(args ?? []);
        var spec = new SandboxLaunchSpec(
            program ?? WorkerProgram,
            arguments,
            environment ?? new Dictionary<string, string>(StringComparer.Ordinal),
            null,
            [])
        {
            ServerVariable = serverVariable,
        };
        string workerId = $"{scenario}-{Guid.NewGuid():N}";
        var inherited = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            inherited[(string)entry.Key] = (string?)entry.Value ?? "";
        }

        foreach ((string name, string value) in extraInherited ?? new Dictionary<string, string>())
        {
            inherited[name] = value;
        }

        SandboxedLaunch launch = SandboxLauncher.Plan(options, spec, workerId, machine ?? Machine.Value, inherited);
        launch.Prepare();
        try
        {
            return await StartAsync(launch.Launch, timeout ?? TimeSpan.FromSeconds(60), started, outputLine).ConfigureAwait(false);
        }
        finally
        {
            launch.Cleanup();
        }
    }

    /// <summary>Starts a launch spec with exactly its environment and waits, bounded, for it to exit.</summary>
    public static async Task<WorkerRun> StartAsync(SandboxLaunchSpec launch, TimeSpan timeout, Action<Process>? started = null, Action<string>? outputLine = null)
    {
        var start = new ProcessStartInfo(launch.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = launch.WorkingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (string argument in launch.FileArguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach ((string name, string value) in launch.Environment)
        {
            start.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("the worker did not start");
        started?.Invoke(process);
        Task<string> output = ReadLinesAsync(process.StandardOutput, outputLine);
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            throw new TimeoutException($"The worker did not exit within {timeout}. stdout: {await output.ConfigureAwait(false)} stderr: {await error.ConfigureAwait(false)}");
        }

        TimeSpan elapsed = clock.Elapsed;
        string stdout = await output.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        string stderr = await error.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);

        // Process reports 128 + signal for a child killed by a signal.
        return new WorkerRun(process.ExitCode, stdout, stderr, elapsed, process.ExitCode > 128);
    }

    /// <summary>Reads a stream to its end, handing each line to <paramref name="line"/> as it arrives.</summary>
    private static async Task<string> ReadLinesAsync(StreamReader reader, Action<string>? line)
    {
        var all = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } next)
        {
            all.Append(next).Append('\n');
            line?.Invoke(next);
        }

        return all.ToString();
    }
}
