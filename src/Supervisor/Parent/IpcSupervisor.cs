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

/// <summary>
/// The supervisor of one host: starts the registered workers in order, watches them (process exit, channel
/// disconnect, heartbeats, bad input), restarts them by Erlang/OTP rules, and stops them in reverse order.
/// Every restart decision is taken on one loop, one event at a time.
/// </summary>
internal sealed partial class IpcSupervisor : IHostedService, IDisposable
{
    private readonly List<WorkerSlot> _slots = new();
    private readonly Dictionary<string, WorkerSlot> _byName = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<IpcWorkerLinkRegistration> _links;
    private readonly IpcSupervisorOptions _options;
    private readonly IReadOnlyList<IIpcWorkerLaunchFilter> _filters;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly SupervisorMetrics _metrics;
    private readonly Channel<LoopEvent> _events = Channel.CreateUnbounded<LoopEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeProvider _time;
    private readonly RestartPlanner _planner;
    private readonly CancellationTokenSource _stopping = new();
    private readonly WorkerSandbox _sandbox;
    private BootstrapServer? _bootstrap;
    private Task _loop = Task.CompletedTask;
    private int _gaveUp;

    public IpcSupervisor(
        IEnumerable<IpcWorkerRegistration> registrations,
        IEnumerable<IpcWorkerLinkRegistration> links,
        IOptions<IpcSupervisorOptions> options,
        IOptionsMonitor<IpcWorkerOptions> workerOptions,
        IEnumerable<IIpcWorkerLaunchFilter> filters,
        ILoggerFactory loggers,
        IMeterFactory meters,
        IHostApplicationLifetime lifetime,
        TimeProvider? timeProvider = null)
    {
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _filters = filters.ToArray();
        _loggers = loggers;
        _logger = loggers.CreateLogger("IpcChannel.Supervisor");
        _lifetime = lifetime;
        _sandbox = new WorkerSandbox(_logger);
        foreach (IpcWorkerRegistration registration in registrations)
        {
            WorkerSlot slot = registration.CreateSlot(registration.Name, _slots.Count, workerOptions.Get(registration.Name));
            slot.LogCategories = new WorkerLogCategories(loggers, slot.Name);
            _slots.Add(slot);
            _byName.Add(slot.Name, slot);
        }

        _planner = new RestartPlanner(_options, _slots.Count, _time, new Random());
        _links = links.ToArray();
        _metrics = new SupervisorMetrics(meters, () => _slots);
    }

    /// <summary>The workers in registration order.</summary>
    public IReadOnlyList<WorkerSlot> Slots => _slots;

    public IpcWorkerClient<TIn, TOut> GetClient<TIn, TOut>(string name) =>
        ((WorkerSlot<TIn, TOut>)_byName[name]).Client;

    public IpcWorkerStatus GetStatus(string name) => _byName[name].Status;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A worker whose sandbox cannot be had on this machine stops the host before anything is launched.
        foreach (WorkerSlot slot in _slots)
        {
            _sandbox.Check(slot.Name, slot.Options.Sandbox);
        }

        // A silent connection is closed when the longest start timeout passes: by then its launch was killed anyway.
        TimeSpan firstMessageTimeout = _slots.Count == 0 ? Ipc.DefaultFirstMessageTimeout : _slots.Max(s => s.Options.StartTimeout);
        _bootstrap = new BootstrapServer(_logger, firstMessageTimeout, _options.TrustBootstrapPeers, WorkerGroup());
        _sandbox.UseBootstrap(_bootstrap.Name);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        foreach (WorkerSlot slot in _slots)
        {
            if (!await StartRunAsync(slot, linked.Token).ConfigureAwait(false) && _options.FailHostOnStartFailure)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await FailStartAsync(slot).ConfigureAwait(false);
            }
        }

        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>
    /// The one group that workers with users of their own run as (the bootstrap socket is opened to it), or null when
    /// none has a user of its own.
    /// </summary>
    /// <exception cref="IpcWorkerException">Two workers name different groups.</exception>
    private int? WorkerGroup()
    {
        (string Name, int Group)? first = null;
        foreach (WorkerSlot slot in _slots)
        {
            if (_sandbox.DistinctUserGroup(slot.Options.Sandbox) is not int group)
            {
                continue;
            }

            if (first is { } other && other.Group != group)
            {
                throw new IpcWorkerException(slot.Name, $"Worker '{slot.Name}' cannot start: its Sandbox.UserIdRange group {group} differs from worker "
                    + $"'{other.Name}''s {other.Group}; all workers of a supervisor that run as users of their own share one group (the one that may reach the bootstrap socket).");
            }

            first ??= (slot.Name, group);
        }

        return first?.Group;
    }

    /// <summary>Stops every worker in reverse start order, each with its own stop budget
    /// (<see cref="IpcWorkerOptions.StopTimeout"/>, <see cref="IpcWorkerOptions.TerminateTimeout"/>): the host's
    /// <c>ShutdownTimeout</c> (<paramref name="cancellationToken"/>) does not cut a worker's graceful stop short; when it
    /// passes, a warning says so.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
        using CancellationTokenRegistration late = cancellationToken.Register(() => Log.ShutdownTimeoutPassed(_logger));
        await _loop.ConfigureAwait(false);
        await StopAllAsync("the host is stopping").ConfigureAwait(false);
        foreach (WorkerSlot slot in _slots)
        {
            await StopStandbyAsync(slot).ConfigureAwait(false);
        }

        foreach (WorkerSlot slot in _slots)
        {
            if (slot.State != IpcWorkerState.Failed)
            {
                slot.State = IpcWorkerState.Stopped;
            }

            slot.OnTerminal(slot.State);
        }

        _bootstrap?.Dispose();
        _sandbox.Dispose();
    }

    public void Dispose()
    {
        _sandbox.Dispose();
        _bootstrap?.Dispose();
        _metrics.Dispose();
        _stopping.Dispose();
    }

    /// <summary>A data or control channel of <paramref name="run"/> closed: it is down now; it must exit soon or be killed.</summary>
    internal void OnChannelClosed(WorkerRun run, string what)
    {
        MarkDown(run, what);
        _ = KillIfLingeringAsync(run, what);
    }

    /// <summary><paramref name="run"/> sent something it must not: kill it, count it as a crash.</summary>
    internal void OnProtocolViolation(WorkerRun run, string what)
    {
        Log.ProtocolViolation(_logger, run.Slot.Name, run.Scope.Pid, what);
        Kill(run, $"protocol violation: {what}");
    }

    private void Kill(WorkerRun run, string reason)
    {
        if (run.Ended.IsCompleted)
        {
            return;
        }

        run.SetReason(reason);
        MarkDown(run, reason);
        using (_logger.BeginScope(run.Scope))
        {
            Log.Killed(_logger, run.Slot.Name, run.Scope.Pid, reason);
        }

        run.Process?.Kill();
    }

    private void MarkDown(WorkerRun run, string reason)
    {
        if (run.TryMarkDown())
        {
            run.Slot.OnDown(run, reason);
        }
    }

    /// <summary>A worker that closed its channels is on its way out, as after a stop message: it has its graceful stop
    /// time (<see cref="IpcWorkerOptions.StopTimeout"/>, or <see cref="IpcWorkerOptions.TerminateTimeout"/> when that is
    /// zero) to exit, and how it exits decides what it was; one that is still there then is killed as a crash.</summary>
    private async Task KillIfLingeringAsync(WorkerRun run, string what)
    {
        IpcWorkerOptions options = run.Slot.Options;
        TimeSpan grace = options.StopTimeout == TimeSpan.Zero ? options.TerminateTimeout : options.StopTimeout;
        if (!await ExitedWithinAsync(run, grace).ConfigureAwait(false))
        {
            Kill(run, $"{what} but the process did not exit");
        }
    }

    /// <summary>
    /// The category of everything a worker says (its stdout and stderr lines; its forwarded records go to categories
    /// under it): <c>IpcChannel.Workers.{name}</c>, outside the parent's own <c>IpcChannel.Supervisor</c>.
    /// </summary>
    internal static string WorkerLogCategory(string workerName) => $"IpcChannel.Workers.{workerName}";

    /// <summary>
    /// How many messages a pump handles in a row before it yields its thread: a worker that floods its channels (the
    /// receive completes at once while data is queued) must not hold a pool thread that other workers' pumps and
    /// heartbeats need.
    /// </summary>
    internal const int PumpBatch = 32;
}
