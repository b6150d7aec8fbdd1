using System;
using System.Collections.Generic;
using System.Linq;
using IpcChannel.Supervisor.Child;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Hosting;

/// <summary>
/// In a worker process, runs after every service registration of the app: removes the app's hosted
/// services (only the worker runs), and replaces the logging providers by the forwarder to the parent.
/// It is the app's service-provider factory, so it sees the final registrations of both host builder shapes;
/// <see cref="IpcWorkerHost"/> calls it the same way on its bare service collection.
/// </summary>
internal sealed class WorkerChildServiceProviderFactory : IServiceProviderFactory<IServiceCollection>
{
    public WorkerChildServiceProviderFactory(WorkerLaunchInfo info) => Info = info;

    /// <summary>Whether the container validates scopes and registrations (as the default one does in Development).</summary>
    public bool Validate { get; set; }

    public WorkerLaunchInfo Info { get; }

    /// <summary>The descriptor of the worker's hosted service, set by the matching <c>AddIpcWorker</c>.</summary>
    public ServiceDescriptor? WorkerService { get; set; }

    /// <summary>The worker's <see cref="PendingWorkerConnection{TIn, TOut}"/>, opened by the first matching <c>AddIpcWorker</c>.</summary>
    public object? PendingConnection { get; set; }

    /// <summary>Whether the worker's logs go to the parent.</summary>
    public bool ForwardLogs { get; set; } = true;

    public ParentWatchdog Watchdog { get; } = new();

    public IServiceCollection CreateBuilder(IServiceCollection services)
    {
        if (WorkerService is null)
        {
            throw new InvalidOperationException(
                $"This process was launched as IPC worker '{Info.WorkerName}', but no AddIpcWorker call registers a worker of that name.");
        }

        List<ServiceDescriptor> others = services.Where(d => d.ServiceType == typeof(IHostedService) && !ReferenceEquals(d, WorkerService)).ToList();
        foreach (ServiceDescriptor descriptor in others)
        {
            services.Remove(descriptor);
        }

        if (ForwardLogs)
        {
            foreach (ServiceDescriptor descriptor in services.Where(d => d.ServiceType == typeof(ILoggerProvider)).ToList())
            {
                services.Remove(descriptor);
            }

            var forwarder = new LogForwarder();
            services.AddSingleton(forwarder);
            services.AddSingleton<ILoggerProvider>(forwarder);
        }

        services.AddSingleton(Watchdog);
        services.AddSingleton<IHostLifetime, WorkerHostLifetime>();
        Watchdog.Start(Info.ParentPid);
        return services;
    }

    public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder) =>
        containerBuilder.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = Validate, ValidateScopes = Validate });
}
