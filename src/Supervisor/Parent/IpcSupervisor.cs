using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
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
    private readonly Channel<WorkerRun> _ended = Channel.CreateUnbounded<WorkerRun>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<long> _restartTimes = new();
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
        IHostApplicationLifetime lifetime)
    {
        _options = options.Value;
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
        _bootstrap = new BootstrapServer(_logger, firstMessageTimeout, _options.TrustBootstrapPeers);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        foreach (WorkerSlot slot in _slots)
        {
            await StartRunAsync(slot, linked.Token).ConfigureAwait(false);
        }

        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _ended.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Out of time: stop what runs anyway, below.
        }

        await StopAllAsync("the host is stopping", cancellationToken).ConfigureAwait(false);
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

    private async Task KillIfLingeringAsync(WorkerRun run, string what)
    {
        try
        {
            await run.Ended.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (TimeoutException)
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
