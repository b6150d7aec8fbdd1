using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using System.Reflection;
using IpcChannel.Supervisor.Child;
using IpcChannel.Supervisor.Parent;
using IpcChannel.Supervisor.Protocol;
using IpcChannel.Supervisor.Sandbox;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace IpcChannel.Supervisor.Hosting;

/// <summary>What <c>AddIpcWorker</c> does, for both host builder shapes: supervise in a parent, run the worker in its child.</summary>
internal static class WorkerRegistrar
{
    private const string FactoryKey = "IpcChannel.Supervisor.ChildFactory";

    /// <summary>Why the <see cref="Type"/>-based registrations are not for ahead-of-time compiled code.</summary>
    internal const string DynamicCodeReason =
        "Finds the worker's message types by reflection and instantiates the supervisor's generic code over them at run time, " +
        "which NativeAOT cannot do for value types. In an ahead-of-time compiled worker use IpcWorkerHost.RunAsync<TWorker, TIn, TOut>.";

    /// <summary>In a worker process: the factory that keeps only the worker running (installed once per builder).</summary>
    public static WorkerChildServiceProviderFactory? GetOrCreateChildFactory(IDictionary<object, object> properties, out bool created)
    {
        created = false;
        if (properties.TryGetValue(FactoryKey, out object? existing))
        {
            return (WorkerChildServiceProviderFactory)existing;
        }

        WorkerLaunchInfo? info = IpcWorkerEnvironment.Read();
        if (info is null)
        {
            return null;
        }

        // The sandbox's first stage, if the app's Main did not run it already: it restricts this thread and
        // re-executes the process (so it never returns when it runs), before the host exists.
        SandboxStages.RunFirstStageIfRequested();

        var factory = new WorkerChildServiceProviderFactory(info);
        properties[FactoryKey] = factory;
        created = true;
        return factory;
    }

    [RequiresDynamicCode(DynamicCodeReason)]
    public static void Register(IServiceCollection services, WorkerChildServiceProviderFactory? child,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type workerType, string name, Action<IpcWorkerOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        (Type input, Type output) = GetMessageTypes(workerType);
        if (child is not null)
        {
            if (string.Equals(child.Info.WorkerName, name, StringComparison.Ordinal))
            {
                RegisterChild(services, child, workerType, input, output, configure);
            }

            return;
        }

        MethodInfo register = typeof(WorkerRegistrar).GetMethod(nameof(RegisterParent), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(input, output);
        register.Invoke(null, BindingFlags.DoNotWrapExceptions, binder: null, [services, workerType, name, configure], culture: null);
    }

    public static void AddSupervisorCore(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(IpcSupervisor)))
        {
            return;
        }

        services.AddMetrics();
        services.AddOptions<IpcSupervisorOptions>()
            .PostConfigure<IConfiguration>((options, configuration) => configuration.GetSection(IpcSupervisorOptions.SectionName).Bind(options))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IpcSupervisorOptions>, IpcSupervisorOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IpcWorkerOptions>, IpcWorkerOptionsValidator>());
        services.AddSingleton<IpcSupervisor>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<IpcSupervisor>());
    }

    private static void RegisterParent<TIn, TOut>(IServiceCollection services, Type workerType, string name, Action<IpcWorkerOptions>? configure)
    {
        if (services.Any(d => d.ImplementationInstance is IpcWorkerRegistration r && r.Name == name))
        {
            throw new ArgumentException($"An IPC worker named '{name}' is already registered; give each AddIpcWorker call a distinct name.", nameof(name));
        }

        AddSupervisorCore(services);
        services.AddSingleton(new IpcWorkerRegistration(name, workerType, (n, index, options) => new WorkerSlot<TIn, TOut>(n, index, workerType, options)));
        OptionsBuilder<IpcWorkerOptions> options = services.AddOptions<IpcWorkerOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure<IConfiguration>((o, configuration) => configuration.GetSection($"{IpcSupervisorOptions.SectionName}:Workers:{name}").Bind(o))
            .ValidateOnStart();
        services.AddKeyedSingleton(name, (sp, _) => sp.GetRequiredService<IpcSupervisor>().GetClient<TIn, TOut>(name));
        services.TryAddSingleton(sp => sp.GetRequiredService<IpcSupervisor>().GetClient<TIn, TOut>(name));
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            $"ipc-worker:{name}",
            sp => new IpcWorkerHealthCheck(sp.GetRequiredService<IpcSupervisor>(), name),
            failureStatus: null,
            tags: ["ipc-worker"]));
    }

    /// <summary>
    /// The worker's part of a worker process's services, shared by <c>AddIpcWorker</c> (Generic Host) and
    /// <see cref="IpcWorkerHost"/> (a bare <see cref="ServiceCollection"/>): the launch info, the connection to the
    /// parent (whose opening starts here, so that it overlaps the rest of the start) and the worker's service.
    /// <see cref="WorkerChildServiceProviderFactory.CreateBuilder"/> completes it once the app's registrations are in.
    /// This form finds the message types by reflection; <see cref="RegisterChildTyped{TWorker, TIn, TOut}"/> is the statically typed one.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="workerType"/> is not a concrete <see cref="IpcWorker{TIn, TOut}"/>.</exception>
    [RequiresDynamicCode(DynamicCodeReason)]
    public static void RegisterChild(IServiceCollection services, WorkerChildServiceProviderFactory child,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type workerType, Action<IpcWorkerOptions>? configure)
    {
        (Type input, Type output) = GetMessageTypes(workerType);
        RegisterChild(services, child, workerType, input, output, configure);
    }

    /// <summary>The statically typed registration of a worker process's worker: no reflection, what an ahead-of-time
    /// compiled worker runs (and what the <see cref="Type"/>-based forms end in).</summary>
    public static void RegisterChildTyped<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker, TIn, TOut>(
        IServiceCollection services, WorkerChildServiceProviderFactory child, Action<IpcWorkerOptions>? configure)
        where TWorker : IpcWorker<TIn, TOut>
    {
        if (typeof(TWorker).IsAbstract)
        {
            throw new ArgumentException($"{typeof(TWorker).FullName} is not a concrete class derived from IpcWorker<TIn, TOut>.", nameof(TWorker));
        }

        var options = new IpcWorkerOptions();
        configure?.Invoke(options);
        child.ForwardLogs = options.ForwardLogs;
        services.AddSingleton(child.Info);
        if (child.PendingConnection is null)
        {
            // Connect to the parent while the app goes on building its host.
            IpcSerializerOptions data = ProtocolResolver.OptionsFor(options.GetMessageResolver());
            var pending = new PendingWorkerConnection<TIn, TOut>(WorkerChildConnection<TIn, TOut>.OpenAsync(child.Info, data), data);
            child.PendingConnection = pending;
            services.AddSingleton(pending);
        }

        var descriptor = ServiceDescriptor.Singleton<IHostedService, WorkerChildService<TWorker, TIn, TOut>>();
        services.Add(descriptor);
        child.WorkerService = descriptor;
    }

    [RequiresDynamicCode(DynamicCodeReason)]
    [UnconditionalSuppressMessage("Trimming", "IL2060:MakeGenericMethod", Justification =
        "The only annotated type argument is the worker type, which carries the same PublicConstructors annotation here; the message types need none.")]
    private static void RegisterChild(IServiceCollection services, WorkerChildServiceProviderFactory child,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type workerType, Type input, Type output, Action<IpcWorkerOptions>? configure)
    {
        MethodInfo register = typeof(WorkerRegistrar).GetMethod(nameof(RegisterChildTyped), BindingFlags.Public | BindingFlags.Static)!
            .MakeGenericMethod(workerType, input, output);
        register.Invoke(null, BindingFlags.DoNotWrapExceptions, binder: null, [services, child, configure], culture: null);
    }

    private static (Type In, Type Out) GetMessageTypes(Type workerType)
    {
        for (Type? type = workerType; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IpcWorker<,>))
            {
                if (workerType.IsAbstract)
                {
                    break;
                }

                Type[] arguments = type.GetGenericArguments();
                return (arguments[0], arguments[1]);
            }
        }

        throw new ArgumentException($"{workerType.FullName} is not a concrete class derived from IpcWorker<TIn, TOut>.", nameof(workerType));
    }
}
