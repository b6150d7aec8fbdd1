using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Parent.Policy;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IpcChannel.Supervisor.Parent;

/// <summary>The supervisor: starting.</summary>
internal sealed partial class IpcSupervisor
{

    private async Task<bool> StartRunAsync(WorkerSlot slot, CancellationToken cancellationToken, bool standby = false)
    {
        BootstrapServer bootstrap = _bootstrap!;
        int number = slot.NextIncarnation();
        string token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var run = new WorkerRun(slot, number, token);
        if (!standby)
        {
            slot.Current = run;
            slot.State = IpcWorkerState.Starting;
        }

        Task<WorkerArrival> arrival = bootstrap.Expect(token);
        WorkerLogCategories categories = slot.LogCategories!;
        ILogger output = categories.Own;
        run.Logs = new WorkerLogRelay(categories, slot.Options.MaxLogRecordsPerSecond);
        try
        {
            IpcWorkerLaunchSpec spec = BuildSpec(slot, number, token, bootstrap.Name);
            if (standby)
            {
                spec = spec.WithEnvironmentVariable(IpcWorkerEnvironment.StandbyVariable, "1");
            }

            using (_logger.BeginScope(run.Scope))
            {
                (spec, run.Sandbox) = _sandbox.Plan(slot.Name, number, spec, slot.Options.Sandbox);
            }

            if (run.Sandbox?.UserId is int workerUser)
            {
                bootstrap.AdmitUser(token, workerUser);
            }

            _sandbox.Prepare(run.Sandbox);
            run.Process = WorkerProcess.Start(
                spec,
                line => LogOutput(output, run, line, error: false),
                line => LogOutput(output, run, line, error: true));
            bootstrap.Launched(token, run.Process.Pid);
        }
        catch (Exception e)
        {
            bootstrap.Forget(token);
            _sandbox.Cleanup(slot.Name, run.Sandbox);
            Log.StartFailed(_logger, slot.Name, e.Message, e);
            run.SetReason($"could not launch: {e.Message}");
            _metrics.Crashed(slot.Name);
            run.EndedAt = _time.GetTimestamp();
            run.Complete(-1);
            Post(run);
            return false;
        }

        run.Scope.Pid = run.Process.Pid;
        _metrics.Started(slot.Name);
        _ = WatchExitAsync(run);

        Task first;
        try
        {
            first = await Task.WhenAny(arrival, run.Ended).WaitAsync(slot.Options.StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            bootstrap.Forget(token);
            Kill(run, e is TimeoutException ? $"did not connect back within the start timeout ({slot.Options.StartTimeout.TotalMilliseconds:0} ms)" : "start cancelled");
            return false;
        }

        if (first != arrival)
        {
            bootstrap.Forget(token);
            return false;
        }

        WorkerArrival worker = await arrival.ConfigureAwait(false);

        // From now on the control connection takes this worker's limit, or the control protocol's own when that is lower:
        // records, pongs and link senders need no more, whatever size the worker's data messages may have.
        run.ControlUp = worker.Control.ToOpaque().To<ControlUp>(
            ProtocolResolver.Options.WithMaxMessageSize(Math.Min(slot.Options.MaxMessageSize, LogRecordLimits.MaxControlMessageSize)));
        run.Scope.Pid = worker.Peer.Pid;
        if (worker.Peer.Pid != run.Process.Pid)
        {
            // Launched under a forking prefix (the sandbox's unshare): signals go to the worker itself.
            run.Process.AttachWorker(worker.Peer.Pid);
        }

        try
        {
            if (worker.Hello.WorkerName != slot.Name || worker.Hello.Incarnation != number)
            {
                throw new ProtocolViolationException($"it introduced itself as '{worker.Hello.WorkerName}' #{worker.Hello.Incarnation}");
            }

            slot.Connect(run, worker.Hello, this);
        }
        catch (ProtocolViolationException e)
        {
            OnProtocolViolation(run, e.Message);
            return false;
        }

        if (run.Ended.IsCompleted)
        {
            // It said hello and ended at once: it started, and its end is an ordinary exit for the loop.
            return true;
        }

        TimeSpan latency = Stopwatch.GetElapsedTime(run.LaunchedAt);
        Interlocked.Exchange(ref run.LastPong, Stopwatch.GetTimestamp());
        if (standby)
        {
            slot.Standby = run;
            using (_logger.BeginScope(run.Scope))
            {
                Log.StandbyReady(_logger, slot.Name, run.Scope.Pid, number, latency.TotalMilliseconds);
            }

            StartWatching(run);
            return true;
        }

        _planner.OnUp(slot.Index);
        slot.LastHeartbeat = DateTimeOffset.UtcNow;
        slot.State = IpcWorkerState.Running;
        slot.OnUp(run);
        _metrics.StartLatency(slot.Name, latency);
        using (_logger.BeginScope(run.Scope))
        {
            Log.Started(_logger, slot.Name, run.Scope.Pid, number, latency.TotalMilliseconds);
        }

        StartWatching(run);
        IntroduceLinks(slot);
        LaunchStandbyIfWanted(slot);
        return true;
    }

    /// <summary>
    /// A worker failed to start with the host (OTP <c>init_children</c>): the workers started before it are stopped in
    /// reverse order and the host's start fails.
    /// </summary>
    /// <exception cref="IpcWorkerException">Always: names the worker and how its start ended.</exception>
    private async Task FailStartAsync(WorkerSlot slot)
    {
        WorkerRun run = slot.Current!;
        run.MarkBySupervisor();
        string described;
        try
        {
            described = (await run.Ended.WaitAsync(StopStep.KillWait, _time).ConfigureAwait(false)).Describe();
        }
        catch (TimeoutException)
        {
            described = run.Reason ?? "it did not start";
        }

        Log.InitialStartFailed(_logger, slot.Name, described);
        await StopAllAsync($"worker {slot.Name} failed to start").ConfigureAwait(false);
        foreach (WorkerSlot s in _slots)
        {
            await StopStandbyAsync(s).ConfigureAwait(false);
            s.State = s == slot ? IpcWorkerState.Failed : IpcWorkerState.Stopped;
            s.OnTerminal(s.State);
        }

        throw new IpcWorkerException(slot.Name, $"Worker '{slot.Name}' failed to start ({described}); the workers started before it were stopped.");
    }

    private void StartWatching(WorkerRun run)
    {
        _ = ControlPumpAsync(run);
        if (run.Slot.Options.HeartbeatInterval > TimeSpan.Zero)
        {
            _ = HeartbeatAsync(run);
        }
    }

    /// <summary>Makes the warm standby the current incarnation; false when there is none ready.</summary>
    private bool TryActivateStandby(WorkerSlot slot)
    {
        long start = Stopwatch.GetTimestamp();
        if (slot.TakeStandby() is not { } run || !TrySend(run, new ControlDown { Kind = ControlDownKind.Activate }))
        {
            return false;
        }

        slot.Current = run;
        _planner.OnUp(slot.Index);
        slot.LastHeartbeat = DateTimeOffset.UtcNow;
        slot.State = IpcWorkerState.Running;
        slot.OnUp(run);
        TimeSpan latency = Stopwatch.GetElapsedTime(start);
        _metrics.StartLatency(slot.Name, latency);
        using (_logger.BeginScope(run.Scope))
        {
            Log.Started(_logger, slot.Name, run.Scope.Pid, run.Number, latency.TotalMilliseconds);
        }

        IntroduceLinks(slot);
        LaunchStandbyIfWanted(slot);
        return true;
    }

    private void LaunchStandbyIfWanted(WorkerSlot slot)
    {
        if (slot.Options.WarmStandby && slot.Standby is null && !_stopping.IsCancellationRequested)
        {
            _ = LaunchStandbyAsync(slot);
        }
    }

    private async Task LaunchStandbyAsync(WorkerSlot slot)
    {
        try
        {
            await StartRunAsync(slot, _stopping.Token, standby: true).ConfigureAwait(false);
            if (_stopping.IsCancellationRequested && slot.TakeStandby() is { } late)
            {
                late.MarkBySupervisor();
                late.Process?.Kill();
            }
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            Log.StartFailed(_logger, slot.Name, $"its warm standby: {e.Message}", e);
        }
    }

    /// <summary>Stops a slot's standby (host stop, give-up): SIGTERM, then SIGKILL after the terminate timeout.</summary>
    private async Task StopStandbyAsync(WorkerSlot slot)
    {
        if (slot.RemoveStandby() is not { } run || run.Ended.IsCompleted)
        {
            return;
        }

        run.MarkBySupervisor();
        run.Process?.Signal(Interop.SIGTERM);
        if (!await ExitedWithinAsync(run, slot.Options.TerminateTimeout).ConfigureAwait(false))
        {
            run.Process?.Kill();
            await ExitedWithinAsync(run, StopStep.KillWait).ConfigureAwait(false);
        }
    }

    private IpcWorkerLaunchSpec BuildSpec(WorkerSlot slot, int number, string token, string bootstrapName)
    {
        IpcWorkerOptions options = slot.Options;
        (string program, IReadOnlyList<string> prefixArguments) = ResolveProgram(options.Executable);
        IEnumerable<string> arguments = options.Arguments ?? Environment.GetCommandLineArgs().Skip(1);
        IpcWorkerLaunchSpec spec = new IpcWorkerLaunchSpec(program, prefixArguments.Concat(arguments))
            .WithWorkingDirectory(options.WorkingDirectory);
        if (!options.ReloadConfigurationOnChange && !options.Environment.ContainsKey(IpcWorkerEnvironment.ReloadConfigOnChangeVariable)
            && Environment.GetEnvironmentVariable(IpcWorkerEnvironment.ReloadConfigOnChangeVariable) is null)
        {
            spec = spec.WithEnvironmentVariable(IpcWorkerEnvironment.ReloadConfigOnChangeVariable, "false");
        }

        foreach (KeyValuePair<string, string> variable in options.Environment)
        {
            spec = spec.WithEnvironmentVariable(variable.Key, variable.Value);
        }

        spec = spec
            .WithEnvironmentVariable(IpcWorkerEnvironment.BootstrapVariable, bootstrapName)
            .WithEnvironmentVariable(IpcWorkerEnvironment.WorkerVariable, slot.Name)
            .WithEnvironmentVariable(IpcWorkerEnvironment.IncarnationVariable, number.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironmentVariable(IpcWorkerEnvironment.TokenVariable, token)
            .WithEnvironmentVariable(IpcWorkerEnvironment.ParentPidVariable, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (IIpcWorkerLaunchFilter filter in _filters)
        {
            spec = filter.Apply(slot.Name, number, spec);
        }

        return spec;
    }

    /// <summary>The program that relaunches this app (apphost, or <c>dotnet app.dll</c>), or the configured one.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("SingleFile", "IL3000:Avoid accessing Assembly file path when publishing as a single file",
        Justification = "Read only when this process runs as 'dotnet app.dll', which a single-file or NativeAOT app never does.")]
    internal static (string Program, IReadOnlyList<string> Arguments) ResolveProgram(string? executable)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        bool underDotnet = string.Equals(System.IO.Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.Ordinal);
        if (executable is null)
        {
            if (!underDotnet)
            {
                return (host, []);
            }

            string entry = System.Reflection.Assembly.GetEntryAssembly()?.Location
                ?? throw new InvalidOperationException("Cannot tell which app to relaunch as a worker: set IpcWorkerOptions.Executable.");
            return (host, [entry]);
        }

        if (executable.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return (underDotnet ? host : "dotnet", [executable]);
        }

        return (executable, []);
    }

    private static void LogOutput(ILogger output, WorkerRun run, string line, bool error)
    {
        if (run.Logs?.TryTake(run.Scope) == false)
        {
            return;
        }

        using (output.BeginScope(run.Scope))
        {
            if (error)
            {
                Log.Stderr(output, line);
            }
            else
            {
                Log.Stdout(output, line);
            }
        }
    }

    private async Task WatchExitAsync(WorkerRun run)
    {
        int code = await run.Process!.Exited.ConfigureAwait(false);
        run.EndedAt = _time.GetTimestamp();
        run.Logs?.Flush(run.Scope);
        _sandbox.Cleanup(run.Slot.Name, run.Sandbox);
        string reason = run.Reason ?? new WorkerExit(code, null, false).Describe();
        MarkDown(run, reason);
        await run.Slot.OnExitedAsync(run, reason).ConfigureAwait(false);
        run.Complete(code);
        Post(run);
    }
}
