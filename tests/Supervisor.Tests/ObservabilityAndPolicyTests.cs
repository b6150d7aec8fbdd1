using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

public class ObservabilityAndPolicyTests
{
    [Fact(Timeout = 120_000)]
    public async Task Meter_CountsStartsCrashesRestarts_RecordsStartLatency_ObservesRunning()
    {
        var measurements = new ConcurrentQueue<(string Instrument, double Value, string? Worker)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "IpcChannel.Supervisor")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Enqueue((i.Name, v, Worker(tags))));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => measurements.Enqueue((i.Name, v, Worker(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Enqueue((i.Name, v, Worker(tags))));
        listener.Start();

        await using SupervisedHost host = SupervisedHost.Create(b => SupervisedHost.AddProbe(b, "metered"));
        await host.StartAsync();
        ProcessWatch.Signal(host.Client("metered").Status.Pid, 9);
        await host.WaitForStartAsync("metered", 2);
        listener.RecordObservableInstruments();

        List<(string Instrument, double Value, string? Worker)> mine = measurements.Where(m => m.Worker == "metered").ToList();
        Assert.Equal(2, mine.Count(m => m.Instrument == "ipcchannel.supervisor.worker.starts"));
        Assert.Equal(1, mine.Count(m => m.Instrument == "ipcchannel.supervisor.worker.crashes"));
        Assert.Equal(1, mine.Count(m => m.Instrument == "ipcchannel.supervisor.worker.restarts"));
        Assert.Equal(2, mine.Count(m => m.Instrument == "ipcchannel.supervisor.worker.start_latency" && m.Value > 0));
        Assert.Contains(mine, m => m.Instrument == "ipcchannel.supervisor.workers.running" && m.Value == 1);
    }

    [Fact(Timeout = 120_000)]
    public async Task Backoff_FirstRestartImmediate_SecondDelayed_SendsWaitBoundedThenFailClearly()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            b.Services.AddIpcSupervisor(o =>
            {
                o.BackoffInitial = TimeSpan.FromSeconds(6);
                o.BackoffMax = TimeSpan.FromSeconds(6);
                o.BackoffJitter = 0.1;
            });
            SupervisedHost.AddProbe(b, "slow", o => o.UnavailableTimeout = TimeSpan.FromMilliseconds(300));
        });
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> client = host.Client("slow");

        ProcessWatch.Signal(client.Status.Pid, 9);
        await host.WaitForStartAsync("slow", 2);
        ProcessWatch.Signal(client.Status.Pid, 9);
        await host.WaitForExitAsync("slow", 2);

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<IpcWorkerUnavailableException>(() => client.SendAsync(new ProbeCommand("echo")).AsTask());
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        Assert.Equal("slow", error.WorkerName);
        Assert.Equal(IpcWorkerState.Restarting, error.State);
        Assert.True(error.Waited >= TimeSpan.FromMilliseconds(300), $"waited {error.Waited}");
        Assert.Contains("'slow' is unavailable (Restarting)", error.Message);

        string[] decisions = host.Logs.Entries.Where(e => e.EventId == 7002 && e.Message.Contains("slow", StringComparison.Ordinal)).Select(e => e.Message).ToArray();
        Assert.Contains("after 0 ms", decisions[0]);
        double delay = double.Parse(decisions[1].Split(" after ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(delay, 5400, 6600);
    }

    private static string? Worker(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "worker")
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
