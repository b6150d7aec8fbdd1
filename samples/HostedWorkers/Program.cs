using System;
using HostedWorkers;
using IpcChannel.Supervisor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A Generic Host app with two supervised worker processes. The same program is the parent and, launched
// again by the supervisor, each worker: AddIpcWorker sees the worker variables and runs only that worker.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.AddSimpleConsole(o =>
{
    o.IncludeScopes = true;
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});

builder.Services.AddIpcSupervisor(o =>
{
    o.Strategy = IpcRestartStrategy.OneForOne;
    o.MaxRestarts = 5;
    o.RestartPeriod = TimeSpan.FromSeconds(10);
});
builder.AddIpcWorker<Hasher>();
builder.AddIpcWorker<Clock>(o => o.Restart = IpcRestartType.Permanent);
builder.Services.AddHostedService<Driver>();

using IHost host = builder.Build();
await host.RunAsync();
return Environment.ExitCode;
