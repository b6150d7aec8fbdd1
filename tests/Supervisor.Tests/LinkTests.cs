using System;
using System.Threading.Tasks;
using IpcChannel.Supervisor.TestHost;
using IpcChannel.Supervisor.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

public class LinkTests
{
    [Fact(Timeout = 180_000)]
    public async Task BrokeredLink_CarriesData_AndIsRemadeAfterEitherSideRestarts()
    {
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            SupervisedHost.AddProbe(b, "producer");
            SupervisedHost.AddProbe(b, "consumer");
            b.Services.AddIpcWorkerLink("bulk", producer: "producer", consumer: "consumer");
        });
        await host.StartAsync();
        IpcWorkerClient<ProbeCommand, ProbeReply> producer = host.Client("producer");
        IpcWorkerClient<ProbeCommand, ProbeReply> consumer = host.Client("consumer");

        Assert.Equal(100, (await producer.RequestAsync(new ProbeCommand("produce", Number: 100))).Number);
        Assert.Equal(100, (await consumer.RequestAsync(new ProbeCommand("await-consumed", Number: 100))).Number);

        // The consumer restarts: the parent hands the producer a sender to the new consumer.
        ProcessWatch.Signal(consumer.Status.Pid, 9);
        await host.WaitForStartAsync("consumer", 2);
        Assert.Equal(50, (await producer.RequestAsync(new ProbeCommand("produce", Number: 50))).Number);
        ProbeReply fresh = await consumer.RequestAsync(new ProbeCommand("await-consumed", Number: 50));
        Assert.Equal(2, fresh.Incarnation);
        Assert.Equal(50, fresh.Number);

        // The producer restarts: the new producer gets a sender to the same consumer.
        ProcessWatch.Signal(producer.Status.Pid, 9);
        await host.WaitForStartAsync("producer", 2);
        Assert.Equal(30, (await producer.RequestAsync(new ProbeCommand("produce", Number: 30))).Number);
        Assert.Equal(80, (await consumer.RequestAsync(new ProbeCommand("await-consumed", Number: 80))).Number);
        Assert.Contains(host.Logs.Entries, e => e.EventId == 7015);
    }
}
