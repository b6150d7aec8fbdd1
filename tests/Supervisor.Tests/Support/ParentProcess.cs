using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>The test host app started as a supervising parent, its output captured line by line.</summary>
public sealed class ParentProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = new();

    private ParentProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_waiters)
            {
                return _lines.ToArray();
            }
        }
    }

    /// <summary>Starts the test host app as a parent, through its apphost or as <c>dotnet app.dll</c>.</summary>
    public static ParentProcess Start(string scenario, bool viaDotnet = false)
    {
        var start = new ProcessStartInfo(viaDotnet ? "dotnet" : TestPaths.Apphost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (viaDotnet)
        {
            start.ArgumentList.Add(TestPaths.Dll);
        }

        start.ArgumentList.Add("--scenario");
        start.ArgumentList.Add(scenario);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        return new ParentProcess(Process.Start(start)!);
    }

    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            string? existing = _lines.FirstOrDefault(match);
            if (existing is not null)
            {
                return Task.FromResult(existing);
            }

            _waiters.Add((match, done));
        }

        return done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public void Signal(int signal) => ProcessWatch.Signal(Pid, signal);

    public string Output() => string.Join(Environment.NewLine, Lines);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_waiters)
        {
            _lines.Add(line);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(line))
                {
                    _waiters[i].Done.TrySetResult(line);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
