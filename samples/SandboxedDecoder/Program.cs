using System;
using System.Threading.Tasks;
using IpcChannel.Supervisor;
using IpcChannel.Supervisor.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SandboxedDecoder;

/// <summary>
/// A Generic Host app that hands untrusted images to a sandboxed decoder worker. The same program is the parent
/// and, launched again by the supervisor, the decoder: AddIpcWorker sees the worker variables and runs only it.
/// Run it with <c>--demo</c> to watch hostile inputs crash or be refused while the app keeps serving.
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args)
    {
        // First line, before anything else is loaded: in a worker launched sandboxed, stage 1 restricts this thread
        // and re-executes the process (it does not return there); anywhere else it returns at once. AddIpcWorker
        // would run it too, but only after the host builder's work, which stage 1 would then throw away.
        SandboxStages.RunFirstStageIfRequested();
        return RunAsync(args);
    }

    private static async Task<int> RunAsync(string[] args)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.IncludeScopes = true;
            o.SingleLine = true;
        });

        // The decoder gets AddIpcWorker's default sandbox; only its memory cap is set here, well below what a
        // hostile header can ask for (a decompression bomb hits the cap and kills the decoder, not the machine).
        builder.AddIpcWorker<DecoderWorker>("decoder", o =>
        {
            o.Sandbox.MaxGcHeapBytes = 256L << 20;
            o.StartTimeout = TimeSpan.FromSeconds(30);
            o.UnavailableTimeout = TimeSpan.FromSeconds(60);
        });
        builder.Services.AddIpcSupervisor(o =>
        {
            o.MaxRestarts = 10;
            o.RestartPeriod = TimeSpan.FromSeconds(60);
        });
        builder.Services.AddHostedService<DemoDriver>();

        using IHost host = builder.Build();
        await host.RunAsync();
        return Environment.ExitCode;
    }
}
