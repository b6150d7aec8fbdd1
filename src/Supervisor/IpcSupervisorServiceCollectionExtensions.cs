using System;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using IpcChannel.Supervisor;
using IpcChannel.Supervisor.Hosting;
using IpcChannel.Supervisor.Parent;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Service registrations of the IPC supervisor (the workers themselves are added with <c>AddIpcWorker</c> on the host builder).</summary>
public static class IpcSupervisorServiceCollectionExtensions
{
    /// <summary>Configures the host's supervisor (strategy, intensity, backoff). Configuration under <c>IpcSupervisor</c> is applied after <paramref name="configure"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The services.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddIpcSupervisor(o =&gt; { o.Strategy = IpcRestartStrategy.RestForOne; o.MaxRestarts = 3; });
    /// </code>
    /// </example>
    public static IServiceCollection AddIpcSupervisor(this IServiceCollection services, Action<IpcSupervisorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (!IpcWorkerEnvironment.IsWorker)
        {
            WorkerRegistrar.AddSupervisorCore(services);
        }

        return services;
    }

    /// <summary>
    /// Asks the parent to broker a typed channel from worker <paramref name="producer"/> to worker
    /// <paramref name="consumer"/>: the consumer makes the channel and the parent hands its sender to the
    /// producer, again whenever either restarts. Data then flows worker to worker. In the workers, use
    /// <see cref="IpcWorkerLinks.GetSender{T}"/> (producer) and <see cref="IpcWorkerLinks.GetReceiver{T}"/>
    /// (consumer) with the same link name and message type.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="linkName">The link's name.</param>
    /// <param name="producer">The sending worker's name.</param>
    /// <param name="consumer">The receiving worker's name.</param>
    /// <returns>The services.</returns>
    /// <exception cref="ArgumentException">A link of that name exists already.</exception>
    public static IServiceCollection AddIpcWorkerLink(this IServiceCollection services, string linkName, string producer, string consumer)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(linkName);
        ArgumentException.ThrowIfNullOrWhiteSpace(producer);
        ArgumentException.ThrowIfNullOrWhiteSpace(consumer);
        if (services.Any(d => d.ImplementationInstance is IpcWorkerLinkRegistration l && l.Name == linkName))
        {
            throw new ArgumentException($"An IPC worker link named '{linkName}' is already registered.", nameof(linkName));
        }

        services.AddSingleton(new IpcWorkerLinkRegistration(linkName, producer, consumer));
        return services;
    }

    /// <summary>Adds a launch filter that rewrites every worker's launch spec (a sandbox's entry point).</summary>
    /// <typeparam name="TFilter">The filter type.</typeparam>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddIpcWorkerLaunchFilter<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFilter>(this IServiceCollection services)
        where TFilter : class, IIpcWorkerLaunchFilter
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIpcWorkerLaunchFilter, TFilter>());
        return services;
    }
}
