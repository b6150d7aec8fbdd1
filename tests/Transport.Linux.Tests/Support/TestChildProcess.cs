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
        try
        {
            return await _stderr.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return "(stderr not closed)";
        }
    }

    /// <summary>
    /// Runs the parent's half of a scenario; if it fails (often because the child failed first and closed its
    /// channels), kills the child and rethrows with the child's standard error and output attached.
    /// </summary>
    public async Task RunParentAsync(Func<Task> parent)
    {
        try
        {
            await parent().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            // Let a failing child finish writing its error before reading it; then make sure it is gone.
            using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            {
                try
                {
                    await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }

            string stderr = await ErrorOutputAsync().ConfigureAwait(false);
            string stdout = _stdout.IsCompleted ? await _stdout.ConfigureAwait(false) : "(stdout not closed)";
            throw new InvalidOperationException($"{e.Message}\n--- TestChild stderr:\n{stderr}\n--- TestChild stdout:\n{stdout}", e);
        }
    }

    /// <summary>The child's standard output (after exit).</summary>
    public Task<string> OutputAsync() => _stdout;

    /// <summary>Kills the child (SIGKILL).</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Sends a signal to the child (SIGSTOP, SIGCONT, ...).</summary>
    public void Signal(int signal) => Posix.Signal(_process.Id, signal);

    /// <summary>Whether the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Kills the child if it still runs, reaps it, and closes the pipes of its standard output and error.</summary>
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

        // Process.Dispose leaves redirected streams open once they were read (they belong to the caller), so
        // close them here, after their readers saw end-of-file: leak checks count these pipes.
        if (Task.WaitAll([_stdout, _stderr], TimeSpan.FromSeconds(5)))
        {
            _process.StandardOutput.Dispose();
            _process.StandardError.Dispose();
        }

        _process.Dispose();
    }
}
