using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

public class BadInputTests
{
    [Theory(Timeout = 120_000)]
    [InlineData("garbage", "did not connect back", 3)]
    [InlineData("silent", "did not connect back", 3)]
    [InlineData("wrongtype", "protocol violation", 30)]
    public async Task MisbehavingWorker_KilledAndCountedAsCrash_ParentGoesOn(string misbehaviour, string reason, int startTimeoutSeconds)
    {
        var crashes = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "IpcChannel.Supervisor" && instrument.Name == "ipcchannel.supervisor.worker.crashes")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            lock (crashes)
            {
                crashes.Add((string)tags[0].Value!);
            }
        });
        listener.Start();

        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            SupervisedHost.AddProbe(b, "good");
            SupervisedHost.AddProbe(b, "bad", o =>
            {
                o.Restart = IpcRestartType.Temporary;
                o.StartTimeout = TimeSpan.FromSeconds(startTimeoutSeconds);
                o.Environment["TESTHOST_MISBEHAVE"] = misbehaviour;
            });
        });
        await host.StartAsync();

        LogEntry ended = await host.WaitForExitAsync("bad", 1);
        Assert.True(ended.Message.Contains(reason, StringComparison.Ordinal), host.Logs.Dump());
        Assert.Contains(host.Logs.Entries, e => e.EventId == 7005 && e.Message.Contains("bad", StringComparison.Ordinal));
        lock (crashes)
        {
            Assert.Contains("bad", crashes);
        }

        Assert.Equal("ok", (await host.Client("good").RequestAsync(new ProbeCommand("echo", "ok"))).Text);
        Assert.Equal(IpcWorkerState.Stopped, host.Client("bad").Status.State);
    }
}
