using System;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;

namespace IpcChannel.Supervisor.Parent;

/// <summary>
/// One registered worker in the parent: its options, state and current incarnation. The typed part (the data
/// channel and the client handle) is in <see cref="WorkerSlot{TIn, TOut}"/>; everything about processes and
/// restarts is type-free and lives in <see cref="IpcSupervisor"/>.
/// </summary>
internal abstract class WorkerSlot
{
    private int _state = (int)IpcWorkerState.NotStarted;

    protected WorkerSlot(string name, int index, Type workerType, IpcWorkerOptions options)
    {
        Name = name;
        Index = index;
        WorkerType = workerType;
        Options = options;
    }

    public string Name { get; }

    /// <summary>Registration order (start order).</summary>
    public int Index { get; }

    public Type WorkerType { get; }

    public IpcWorkerOptions Options { get; }

    /// <summary>The parent's loggers for what this worker logs (set by the supervisor; one set for every incarnation).</summary>
    public WorkerLogCategories? LogCategories { get; set; }

    public IpcWorkerState State
    {
        get => (IpcWorkerState)Volatile.Read(ref _state);
        set => Volatile.Write(ref _state, (int)value);
    }

    public WorkerRun? Current { get; set; }

    private int _incarnations;
    private WorkerRun? _standby;

    /// <summary>Numbers incarnations (standbys included) from 1.</summary>
    public int NextIncarnation() => Interlocked.Increment(ref _incarnations);

    /// <summary>The warm standby, connected and waiting, if any.</summary>
    public WorkerRun? Standby
    {
        get => Volatile.Read(ref _standby);
        set => Volatile.Write(ref _standby, value);
    }

    /// <summary>Removes the standby, whatever its state.</summary>
    public WorkerRun? RemoveStandby() => Interlocked.Exchange(ref _standby, null);

    /// <summary>Takes the standby if it is connected and alive.</summary>
    public WorkerRun? TakeStandby()
    {
        WorkerRun? standby = RemoveStandby();
        return standby is { Connected: true } && !standby.Ended.IsCompleted ? standby : null;
    }

    public int Restarts { get; set; }

    public DateTimeOffset? LastHeartbeat { get; set; }

    public abstract Type InType { get; }

    public abstract Type OutType { get; }

    public IpcWorkerStatus Status
    {
        get
        {
            WorkerRun? run = Current;
            return new IpcWorkerStatus(Name, State, run is { Connected: true } ? run.Scope.Pid : 0, run?.Number ?? 0, Restarts, LastHeartbeat);
        }
    }

    /// <summary>Wires the typed data channel from a hello and starts its pump.</summary>
    /// <exception cref="ProtocolViolationException">The worker's message types are not this slot's.</exception>
    public abstract void Connect(WorkerRun run, WorkerHello hello, IpcSupervisor supervisor);

    /// <summary>The incarnation is down: clients stop sending to it.</summary>
    public abstract void OnDown(WorkerRun run, string reason);

    /// <summary>The process exited: answers it sent before dying are delivered (the data pump drains the
    /// channel, bounded), then requests still pending fail and the data channel is closed.</summary>
    public abstract Task OnExitedAsync(WorkerRun run, string reason);

    /// <summary>The worker is up on <paramref name="run"/>: clients may use it.</summary>
    public abstract void OnUp(WorkerRun run);

    /// <summary>The worker will not come back (stopped for good or the supervisor gave up).</summary>
    public abstract void OnTerminal(IpcWorkerState state);
}

/// <summary>A worker broke the protocol (wrong types, garbage, a second hello).</summary>
internal sealed class ProtocolViolationException(string message) : Exception(message);
