using System;
using System.Diagnostics.CodeAnalysis;
using IpcChannel.Supervisor;
using IpcChannel.Supervisor.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// <c>AddIpcWorker</c> for both host builder shapes (<see cref="IHostBuilder"/> and
/// <see cref="IHostApplicationBuilder"/>).
/// </summary>
/// <remarks>
/// <para>In the parent, the call registers the worker with the host's supervisor (one per host, started as a
/// hosted service) and a restart-stable <see cref="IpcWorkerClient{TIn, TOut}"/> in DI, keyed by the worker's
/// name and, for the first worker of each message-type pair, also unkeyed.</para>
/// <para>In a process the supervisor launched as this worker (it sees <see cref="IpcWorkerEnvironment"/>'s
/// variables), the same call makes the host run only this worker: the app's other hosted services are
/// removed, its services stay available to the worker, and its logging goes to the parent. Calls for other
/// workers do nothing there.</para>
/// <para>The worker process is, by default, this same app launched again; it must therefore make the same
/// <c>AddIpcWorker</c> call (with the same name).</para>
/// </remarks>
public static class IpcSupervisorHostBuilderExtensions
{
    /// <summary>Adds a supervised worker named after its type.</summary>
    /// <typeparam name="TWorker">A concrete class derived from <see cref="IpcWorker{TIn, TOut}"/>.</typeparam>
    /// <param name="builder">The host builder.</param>
    /// <param name="configure">Sets the worker's options (configuration under <c>IpcSupervisor:Workers:{name}</c> is applied after it).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="TWorker"/> is not a worker, or a worker of that name is already registered.</exception>
    /// <example>
    /// <code>
    /// await Host.CreateDefaultBuilder(args)
    ///     .AddIpcWorker&lt;Resizer&gt;(o =&gt; o.Restart = IpcRestartType.Transient)
    ///     .Build()
    ///     .RunAsync();
    /// </code>
    /// </example>
    [RequiresDynamicCode(WorkerRegistrar.DynamicCodeReason)]
    public static IHostBuilder AddIpcWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(this IHostBuilder builder, Action<IpcWorkerOptions>? configure = null)
        where TWorker : class =>
        builder.AddIpcWorker<TWorker>(typeof(TWorker).Name, configure);

    /// <summary>Adds a supervised worker with an explicit name (the same type may run under several names).</summary>
    /// <typeparam name="TWorker">A concrete class derived from <see cref="IpcWorker{TIn, TOut}"/>.</typeparam>
    /// <param name="builder">The host builder.</param>
    /// <param name="name">The worker's name: its DI key, log scope, metric tag and configuration key.</param>
    /// <param name="configure">Sets the worker's options.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="TWorker"/> is not a worker, or the name is taken.</exception>
    [RequiresDynamicCode(WorkerRegistrar.DynamicCodeReason)]
    public static IHostBuilder AddIpcWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(this IHostBuilder builder, string name, Action<IpcWorkerOptions>? configure = null)
        where TWorker : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        WorkerChildServiceProviderFactory? child = WorkerRegistrar.GetOrCreateChildFactory(builder.Properties, out bool created);
        if (created)
        {
            builder.UseServiceProviderFactory(context =>
            {
                child!.Validate = context.HostingEnvironment.IsDevelopment();
                return child;
            });
        }

        builder.ConfigureServices(services => WorkerRegistrar.Register(services, child, typeof(TWorker), name, configure));
        return builder;
    }

    /// <summary>Adds a supervised worker named after its type.</summary>
    /// <typeparam name="TWorker">A concrete class derived from <see cref="IpcWorker{TIn, TOut}"/>.</typeparam>
    /// <param name="builder">The host application builder.</param>
    /// <param name="configure">Sets the worker's options.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="TWorker"/> is not a worker, or the name is taken.</exception>
    /// <example>
    /// <code>
    /// HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
    /// builder.AddIpcWorker&lt;Resizer&gt;();
    /// await builder.Build().RunAsync();
    /// </code>
    /// </example>
    [RequiresDynamicCode(WorkerRegistrar.DynamicCodeReason)]
    public static IHostApplicationBuilder AddIpcWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(this IHostApplicationBuilder builder, Action<IpcWorkerOptions>? configure = null)
        where TWorker : class =>
        builder.AddIpcWorker<TWorker>(typeof(TWorker).Name, configure);

    /// <summary>Adds a supervised worker with an explicit name.</summary>
    /// <typeparam name="TWorker">A concrete class derived from <see cref="IpcWorker{TIn, TOut}"/>.</typeparam>
    /// <param name="builder">The host application builder.</param>
    /// <param name="name">The worker's name.</param>
    /// <param name="configure">Sets the worker's options.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="TWorker"/> is not a worker, or the name is taken.</exception>
    [RequiresDynamicCode(WorkerRegistrar.DynamicCodeReason)]
    public static IHostApplicationBuilder AddIpcWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(this IHostApplicationBuilder builder, string name, Action<IpcWorkerOptions>? configure = null)
        where TWorker : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        WorkerChildServiceProviderFactory? child = WorkerRegistrar.GetOrCreateChildFactory(builder.Properties, out bool created);
        if (created)
        {
            child!.Validate = builder.Environment.IsDevelopment();
            builder.ConfigureContainer(child);
        }

        WorkerRegistrar.Register(builder.Services, child, typeof(TWorker), name, configure);
        return builder;
    }
}
