using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Tests.Support;

/// <summary>Starts tests/TestChild (copied next to the test assembly) with a scenario, and reaps it.</summary>
public sealed class TestChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private TestChildProcess(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The child's pid.</summary>
    public int Pid => _process.Id;

    /// <summary>Starts the helper with a scenario and its arguments.</summary>
    public static TestChildProcess Start(string scenario, IEnumerable<string>? args = null, IDictionary<string, string>? environment = null)
    {
        string directory = AppContext.BaseDirectory;
        string apphost = Path.Combine(directory, "IpcChannel.TestChild");
        string dll = Path.Combine(directory, "IpcChannel.TestChild.dll");
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        if (File.Exists(apphost))
        {
            start.FileName = apphost;
        }
        else
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(dll);
        }

        start.ArgumentList.Add(scenario);
        foreach (string arg in args ?? [])
        {
            start.ArgumentList.Add(arg);
        }

        if (environment is not null)
        {
            foreach ((string key, string value) in environment)
            {
                start.Environment[key] = value;
            }
        }

        return new TestChildProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start TestChild"));
    }

    /// <summary>Waits for the child to exit and returns its exit code; fails with its stderr if it does not in time.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"TestChild did not exit within {timeout}. stderr: {await ErrorOutputAsync().ConfigureAwait(false)}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits for a successful exit; throws with the child's stderr otherwise.</summary>
    public async Task AssertSuccessAsync(TimeSpan? timeout = null)
    {
        int code = await WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        if (code != 0)
        {
            throw new InvalidOperationException($"TestChild exited with {code}. stderr: {await ErrorOutputAsync().ConfigureAwait(false)}");
        }
    }

    /// <summary>The child's standard error (after exit).</summary>
    public async Task<string> ErrorOutputAsync()
    {
        Task done = await Task.WhenAny(_stderr, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        return done == _stderr ? await _stderr.ConfigureAwait(false) : "(stderr not closed)";
    }

    /// <summary>The child's standard output (after exit).</summary>
    public Task<string> OutputAsync() => _stdout;

    /// <summary>Kills the child (SIGKILL).</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already reaped.
        }

        _process.Dispose();
    }
}
