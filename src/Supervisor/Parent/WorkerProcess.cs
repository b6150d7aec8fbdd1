using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using CliWrap;

namespace IpcChannel.Supervisor.Parent;

/// <summary>
/// One launched worker process: started through CliWrap from a launch spec, its output piped line by line,
/// its exit observed, and signalled through a pidfd (no pid-reuse race). The only place that starts processes.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly CancellationTokenSource _forceful;
    private readonly SafePidFdHandle? _pidfd;
    private SafePidFdHandle? _worker;

    private WorkerProcess(CommandTask<CommandResult> task, CancellationTokenSource forceful)
    {
        _forceful = forceful;
        Pid = task.ProcessId;
        _pidfd = SafePidFdHandle.Open(Pid, out _);
        Exited = WaitAsync(task);
    }

    /// <summary>The launched process's id (the prefix's, when the spec has one).</summary>
    public int Pid { get; }

    /// <summary>Completes with the exit code (128 + signal for a signalled process) once the process exited and its output ended.</summary>
    public Task<int> Exited { get; }

    /// <summary>Starts the process.</summary>
    /// <exception cref="InvalidOperationException">The program could not be started.</exception>
    public static WorkerProcess Start(IpcWorkerLaunchSpec spec, Action<string> onStdout, Action<string> onStderr)
    {
        Command command = Cli.Wrap(spec.FileName)
            .WithArguments(spec.FullArguments)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToDelegate(onStdout))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(onStderr));
        if (spec.WorkingDirectory is not null)
        {
            command = command.WithWorkingDirectory(spec.WorkingDirectory);
        }

        if (spec.InheritEnvironment)
        {
            command = command.WithEnvironmentVariables(spec.Environment);
        }

        var forceful = new CancellationTokenSource();
        CommandTask<CommandResult> task = command.ExecuteAsync(
            startInfo =>
            {
                if (!spec.InheritEnvironment)
                {
                    startInfo.Environment.Clear();
                    foreach (KeyValuePair<string, string?> variable in spec.Environment)
                    {
                        if (variable.Value is not null)
                        {
                            startInfo.Environment[variable.Key] = variable.Value;
                        }
                    }
                }
            },
            null,
            forceful.Token,
            CancellationToken.None);
        return new WorkerProcess(task, forceful);
    }

    /// <summary>
    /// The launched process is a launcher that forked the worker (the sandbox's <c>unshare --fork</c>, which blocks
    /// SIGTERM and SIGINT): from now on signals other than SIGKILL go to the worker itself, and SIGKILL to both (the
    /// launcher's death also kills the worker, <c>--kill-child</c>).
    /// </summary>
    /// <param name="workerPid">The worker's pid, as the kernel reported it on its connection.</param>
    public void AttachWorker(int workerPid)
    {
        SafePidFdHandle? worker = SafePidFdHandle.Open(workerPid, out _);
        Interlocked.Exchange(ref _worker, worker)?.Dispose();
    }

    /// <summary>Sends a signal; false when the process is gone.</summary>
    public bool Signal(int signal)
    {
        if (Exited.IsCompleted)
        {
            return false;
        }

        SafePidFdHandle? worker = Volatile.Read(ref _worker);
        if (worker is not null && signal != Interop.SIGKILL)
        {
            return worker.TrySignal(signal);
        }

        if (worker is not null)
        {
            worker.TrySignal(signal);
        }

        if (_pidfd is not null)
        {
            return _pidfd.TrySignal(signal);
        }

        if (signal == Interop.SIGKILL)
        {
            _forceful.Cancel();
            return true;
        }

        return false;
    }

    /// <summary>SIGKILL.</summary>
    public void Kill()
    {
        if (!Signal(Interop.SIGKILL) && !Exited.IsCompleted)
        {
            _forceful.Cancel();
        }
    }

    public void Dispose()
    {
        _pidfd?.Dispose();
        Volatile.Read(ref _worker)?.Dispose();
        _forceful.Dispose();
    }

    private static async Task<int> WaitAsync(CommandTask<CommandResult> task)
    {
        try
        {
            CommandResult result = await task.ConfigureAwait(false);
            return result.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return 128 + Interop.SIGKILL;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or System.IO.IOException)
        {
            // CliWrap could not observe the process or its output: report an abnormal end.
            return -1;
        }
    }
}
