using System;
using System.Globalization;
using System.Threading.Tasks;
using IpcChannel.Supervisor.AotWorker;
using IpcChannel.Supervisor.Tests.Support;
using IpcChannel.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>
/// Workers that are a separate executable published with NativeAOT (tests/Supervisor.AotWorker, through
/// <see cref="IpcWorkerHost.RunAsync{TWorker, TIn, TOut}"/>), launched through <see cref="IpcWorkerOptions.Executable"/>:
/// the configuration the cold-start benchmark measures. Each test proves the worker is really native code
/// (no run-time code generation) and that what the supervisor promises holds there too.
/// </summary>
public class NativeAotWorkerTests(AotWorkerFixture aot) : IClassFixture<AotWorkerFixture>
{
    private SupervisedHost Create(string name, bool sandboxed = false) => SupervisedHost.Create(b =>
    {
        void Configure(IpcWorkerOptions o)
        {
            SupervisedHost.UseTestLaunch(o, aot.Executable);
            o.Sandbox.Enabled = sandboxed;
        }

        if (name.StartsWith("aot-sum", StringComparison.Ordinal))
        {
            b.AddIpcWorker<AotSumWorker>(name, Configure);
        }
        else if (name.StartsWith("aot-point", StringComparison.Ordinal))
        {
            b.AddIpcWorker<AotPointWorker>(name, o =>
            {
                Configure(o);
                o.UseMessageResolver(PointResolver.Instance);
            });
        }
        else
        {
            b.AddIpcWorker<AotEchoWorker>(name, Configure);
        }
    });

    private static IpcWorkerClient<TIn, TOut> Client<TIn, TOut>(SupervisedHost host, string name) =>
        host.Host.Services.GetRequiredKeyedService<IpcWorkerClient<TIn, TOut>>(name);

    [Fact(Timeout = 600_000)]
    public async Task Aot_ServesRequestsMessagesAndLogs_AsNativeCode()
    {
        await using SupervisedHost host = Create("aot-echo");
        await host.StartAsync();
        IpcWorkerClient<string, string> client = Client<string, string>(host, "aot-echo");

        Assert.Equal("hello", await client.RequestAsync("hello", TimeSpan.FromSeconds(30)));
        Assert.Equal("dynamic-code=False", await client.RequestAsync("runtime"));
        Assert.Equal(client.Status.Pid.ToString(CultureInfo.InvariantCulture), await client.RequestAsync("pid"));
        Assert.Equal(aot.Executable, System.IO.File.ReadAllText($"/proc/{client.Status.Pid}/cmdline").Split('\0')[0]);

        // Senders and receivers of a value type travel inside messages in the native worker.
        Assert.Equal("handles=42", await client.RequestAsync("handles"));

        Assert.Equal("notified", await client.RequestAsync("notify:pushed"));
        Assert.Equal("pushed", await client.ReceiveAsync().AsTask().WithTimeout());

        Assert.Equal("logged", await client.RequestAsync("log:A17"));
        LogEntry logged = await host.Logs.WaitForAsync(e => e.Message.Contains("aot-marker A17"));
        Assert.Equal($"IpcChannel.Workers.aot-echo.{typeof(AotEchoWorker).FullName}", logged.Category);
        Assert.Equal("aot-echo", logged.Scope["WorkerName"]);
        Assert.Equal(client.Status.Pid, logged.Scope["WorkerPid"]);
    }

    [Fact(Timeout = 600_000)]
    public async Task Aot_ValueTypeMessages_RoundTrip()
    {
        // int in, long out: the envelopes of value-type messages cannot be built at run time under NativeAOT, so
        // this passes only because the supervisor registers them as statically compiled code.
        await using SupervisedHost host = Create("aot-sum");
        await host.StartAsync();
        IpcWorkerClient<int, long> client = Client<int, long>(host, "aot-sum");

        Assert.Equal(5L, await client.RequestAsync(5, TimeSpan.FromSeconds(30)));
        Assert.Equal(12L, await client.RequestAsync(7));
        await client.SendAsync(30);
        Assert.Equal(42L, await client.ReceiveAsync().AsTask().WithTimeout());
    }

    [Fact(Timeout = 600_000)]
    public async Task Aot_AppsOwnMessageType_ThroughItsResolver()
    {
        // A record: the native worker could not serialize it with the default (contractless) resolver, which
        // generates code at run time; both sides use the app's hand-written formatter (UseMessageResolver).
        await using SupervisedHost host = Create("aot-point");
        await host.StartAsync();
        IpcWorkerClient<Point, Point> client = Client<Point, Point>(host, "aot-point");

        Assert.Equal(new Point(-3, 4, "p mirrored"), await client.RequestAsync(new Point(3, -4, "p"), TimeSpan.FromSeconds(30)));
    }

    [Fact(Timeout = 600_000)]
    public async Task Aot_BrokeredLink_CarriesTheAppsType_AndIsRemadeAfterTheConsumerRestarts()
    {
        // Two native workers, a link of records between them: the links use the workers' message resolver too.
        await using SupervisedHost host = SupervisedHost.Create(b =>
        {
            foreach (string name in new[] { "aot-relay-producer", "aot-relay-consumer" })
            {
                b.AddIpcWorker<AotRelayWorker>(name, o =>
                {
                    SupervisedHost.UseTestLaunch(o, aot.Executable);
                    o.Sandbox.Enabled = false;
                    o.UseMessageResolver(PointResolver.Instance);
                });
            }

            b.Services.AddIpcWorkerLink("points", producer: "aot-relay-producer", consumer: "aot-relay-consumer");
        });
        await host.StartAsync();
        IpcWorkerClient<string, string> producer = Client<string, string>(host, "aot-relay-producer");
        IpcWorkerClient<string, string> consumer = Client<string, string>(host, "aot-relay-consumer");

        Assert.Equal("produced:100", await producer.RequestAsync("produce:100", TimeSpan.FromSeconds(30)));
        Assert.Equal("100:4950", await consumer.RequestAsync("sum:100", TimeSpan.FromSeconds(30)));

        ProcessWatch.Signal(consumer.Status.Pid, 9);
        await host.WaitForStartAsync("aot-relay-consumer", 2);
        Assert.Equal("produced:10", await producer.RequestAsync("produce:10", TimeSpan.FromSeconds(30)));
        Assert.Equal("10:45", await consumer.RequestAsync("sum:10", TimeSpan.FromSeconds(30)));
    }

    [Fact(Timeout = 600_000)]
    public async Task Aot_FailFast_RestartedAndServing_HandleUnchanged()
    {
        await using SupervisedHost host = Create("aot-echo");
        await host.StartAsync();
        IpcWorkerClient<string, string> client = Client<string, string>(host, "aot-echo");
        int firstPid = client.Status.Pid;

        await Assert.ThrowsAsync<IpcWorkerCrashedException>(() => client.RequestAsync("failfast"));
        await host.WaitForStartAsync("aot-echo", 2);

        Assert.Equal("again", await client.RequestAsync("again", TimeSpan.FromSeconds(30)));
        Assert.NotEqual(firstPid, client.Status.Pid);
        Assert.Equal(2, client.Status.Incarnation);
        Assert.Same(client, Client<string, string>(host, "aot-echo"));
    }

    [Theory(Timeout = 600_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Aot_DefaultSandbox_AppliesInTheNativeWorker(bool sandboxed)
    {
        await using SupervisedHost host = Create("aot-echo", sandboxed);
        await host.StartAsync();
        IpcWorkerClient<string, string> client = Client<string, string>(host, "aot-echo");

        Assert.Equal("dynamic-code=False", await client.RequestAsync("runtime", TimeSpan.FromSeconds(30)));
        Assert.Equal(sandboxed ? "NoNewPrivs: 1;Seccomp: 2" : "NoNewPrivs: 0;Seccomp: 0", await client.RequestAsync("status"));

        // Outside the app's directory nothing is there (the private root binds no /etc but ld.so.cache) and Landlock
        // allows nothing (the runtime directories a JIT app also gets do not exist for a native one: its CoreLib has
        // no file).
        Assert.Equal(sandboxed ? "denied:FileNotFoundException" : "ok", await client.RequestAsync("read:/etc/passwd"));
        Assert.Equal("ok", await client.RequestAsync($"read:{aot.Executable}"));
        Assert.Equal("echo", await client.RequestAsync("echo"));
    }
}
