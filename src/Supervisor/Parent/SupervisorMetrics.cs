using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IpcChannel.Supervisor.Parent;

/// <summary>
/// The supervisor's instruments on the <c>IpcChannel.Supervisor</c> meter. Every measurement is tagged with
/// <c>worker</c> (the worker's name).
/// </summary>
internal sealed class SupervisorMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "IpcChannel.Supervisor";

    private readonly Meter _meter;
    private readonly Counter<long> _starts;
    private readonly Counter<long> _crashes;
    private readonly Counter<long> _restarts;
    private readonly Histogram<double> _startLatency;

    public SupervisorMetrics(IMeterFactory factory, Func<IEnumerable<WorkerSlot>> slots)
    {
        _meter = factory.Create(MeterName);
        _meter.CreateObservableUpDownCounter(
            "ipcchannel.supervisor.workers.running",
            () => Running(slots()),
            unit: "{worker}",
            description: "Workers connected and serving.");
        _starts = _meter.CreateCounter<long>("ipcchannel.supervisor.worker.starts", "{start}", "Worker processes launched.");
        _crashes = _meter.CreateCounter<long>("ipcchannel.supervisor.worker.crashes", "{crash}", "Abnormal worker exits (non-zero, signal, hang, bad input, start timeout).");
        _restarts = _meter.CreateCounter<long>("ipcchannel.supervisor.worker.restarts", "{restart}", "Worker restarts decided by the supervisor.");
        _startLatency = _meter.CreateHistogram<double>("ipcchannel.supervisor.worker.start_latency", "ms", "From launch to the worker's hello.");
    }

    public void Started(string worker) => _starts.Add(1, new KeyValuePair<string, object?>("worker", worker));

    public void Crashed(string worker) => _crashes.Add(1, new KeyValuePair<string, object?>("worker", worker));

    public void Restarted(string worker) => _restarts.Add(1, new KeyValuePair<string, object?>("worker", worker));

    public void StartLatency(string worker, TimeSpan latency) =>
        _startLatency.Record(latency.TotalMilliseconds, new KeyValuePair<string, object?>("worker", worker));

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<int>> Running(IEnumerable<WorkerSlot> slots)
    {
        foreach (WorkerSlot slot in slots)
        {
            yield return new Measurement<int>(slot.State == IpcWorkerState.Running ? 1 : 0, new KeyValuePair<string, object?>("worker", slot.Name));
        }
    }
}
