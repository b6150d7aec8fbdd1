using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Child;
using IpcChannel.Supervisor.Hosting;
using IpcChannel.Supervisor.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IpcChannel.Supervisor;

/// <summary>
/// The fast, opt-in entry point of a worker process: runs the worker without the Generic Host, on a bare
/// <see cref="ServiceCollection"/>. The app's <c>Main</c> calls it first when <see cref="IpcWorkerEnvironment.IsWorker"/>;
/// the parent is unchanged (it registers the worker with <c>AddIpcWorker</c> and relaunches the same app).
/// </summary>
/// <remarks>
/// <para>The trade-off: only the services given to it exist in the worker. There is no configuration
/// (<c>IConfiguration</c>), no <c>IHostEnvironment</c>, no options bound from files, no hosted services and no logging
/// provider besides the forwarder to the parent (<c>ILogger&lt;T&gt;</c> and <c>ILoggerFactory</c> are there); a
/// worker that needs more registers it in <c>configureServices</c>. What it saves is loading and compiling the
/// hosting code (host builder, configuration, hosted-service machinery), most of a worker's start after the
/// runtime's own.</para>
/// <para>The semantics are those of a worker under <c>AddIpcWorker</c>, with the same code: the sandbox's first stage
/// runs first and its second before connecting; the connection to the parent opens while the services are built;
/// the worker stops gracefully on the parent's stop message and on SIGTERM (SIGINT and SIGQUIT are ignored, the
/// parent decides when a worker stops); the process never outlives its parent. The exit code is 0 when the worker
/// stopped or completed normally and 1 when it crashed; a worker that cannot start (no connection to the parent, a
/// sandbox that cannot be applied) throws out of <c>Main</c>, as a host's <c>RunAsync</c> does.</para>
/// </remarks>
/// <example>
/// <code>
/// if (IpcWorkerEnvironment.IsWorker)
/// {
///     return await IpcWorkerHost.RunAsync&lt;Resizer&gt;(args, services =&gt; services.AddSingleton&lt;ImageCodec&gt;());
/// }
///
/// HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
/// builder.AddIpcWorker&lt;Resizer&gt;();   // the parent's registration, unchanged
/// await builder.Build().RunAsync();
/// return 0;
/// </code>
/// </example>
public static class IpcWorkerHost
{
    /// <summary>How long the worker has to stop once asked, as a Generic Host's default <c>HostOptions.ShutdownTimeout</c>.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs this worker process as <typeparamref name="TWorker"/> until it stops.</summary>
    /// <typeparam name="TWorker">A concrete class derived from <see cref="IpcWorker{TIn, TOut}"/>: the type the parent
    /// registered under the name this process was launched as (<see cref="IpcWorkerEnvironment.WorkerName"/>).</typeparam>
    /// <param name="args">The process's arguments (kept for symmetry with a host; the worker does not read them).</param>
    /// <param name="configureServices">Registers the services the worker's constructor needs; nothing else exists.</param>
    /// <param name="configure">The worker's options, as given to <c>AddIpcWorker</c> in the parent; in the worker only
    /// <see cref="IpcWorkerOptions.ForwardLogs"/> matters (when false there is no logging provider at all).</param>
    /// <returns>The process's exit code: 0 after a graceful stop or a normal completion, 1 after a crash.</returns>
    /// <exception cref="InvalidOperationException">This process was not launched as a worker (see <see cref="IpcWorkerEnvironment.IsWorker"/>).</exception>
    /// <exception cref="ArgumentException"><typeparamref name="TWorker"/> is not a concrete <see cref="IpcWorker{TIn, TOut}"/>.</exception>
    /// <exception cref="IpcException">The parent's bootstrap server cannot be reached.</exception>
    /// <exception cref="SandboxException">The sandbox the parent asked for cannot be applied.</exception>
    [RequiresDynamicCode(WorkerRegistrar.DynamicCodeReason)]
    public static Task<int> RunAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(
        string[] args, Action<IServiceCollection>? configureServices = null, Action<IpcWorkerOptions>? configure = null)
        where TWorker : class =>
        RunAsync(args, typeof(TWorker).Name, (services, child) => WorkerRegistrar.RegisterChild(services, child, typeof(TWorker), configure), configureServices);

    /// <summary>
    /// Runs this worker process as <typeparamref name="TWorker"/> until it stops: the statically typed form of
    /// <see cref="RunAsync{TWorker}(string[], Action{IServiceCollection}?, Action{IpcWorkerOptions}?)"/>, without
    /// reflection, for a worker executable published with NativeAOT (see <see cref="IpcWorkerOptions.Executable"/>).
    /// </summary>
    /// <typeparam name="TWorker">The worker: the type the parent registered under this process's worker name.</typeparam>
    /// <typeparam name="TIn">The messages it receives from the parent (<typeparamref name="TWorker"/>'s first type argument).</typeparam>
    /// <typeparam name="TOut">The messages it sends to the parent.</typeparam>
    /// <param name="args">The process's arguments (kept for symmetry with a host; the worker does not read them).</param>
    /// <param name="configureServices">Registers the services the worker's constructor needs; nothing else exists.</param>
    /// <param name="configure">The worker's options, as given to <c>AddIpcWorker</c> in the parent; in the worker only
    /// <see cref="IpcWorkerOptions.ForwardLogs"/> matters.</param>
    /// <returns>The process's exit code: 0 after a graceful stop or a normal completion, 1 after a crash.</returns>
    /// <exception cref="InvalidOperationException">This process was not launched as a worker.</exception>
    /// <exception cref="ArgumentException"><typeparamref name="TWorker"/> is abstract.</exception>
    /// <exception cref="IpcException">The parent's bootstrap server cannot be reached.</exception>
    /// <exception cref="SandboxException">The sandbox the parent asked for cannot be applied.</exception>
    /// <remarks>
    /// <para>In an ahead-of-time compiled worker the message types must be serializable without generating code at run
    /// time: types MessagePack has built in (strings, numbers, <c>byte[]</c>, <c>DateTime</c>, <c>Guid</c>, arrays of
    /// them), IpcChannel's handles, or types the app gives formatters for with
    /// <see cref="IpcWorkerOptions.UseMessageResolver"/> (on both sides: here through <paramref name="configure"/>, in
    /// the parent in <c>AddIpcWorker</c>). A record or class without one would need MessagePack's contractless
    /// resolver, which emits code at run time.</para>
    /// <code>
    /// // A separate worker project with &lt;PublishAot&gt;true&lt;/PublishAot&gt;; the parent sets IpcWorkerOptions.Executable to it.
    /// return await IpcWorkerHost.RunAsync&lt;Resizer, ResizeRequest, ResizeResult&gt;(args);
    /// </code>
    /// </remarks>
    public static Task<int> RunAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker, TIn, TOut>(
        string[] args, Action<IServiceCollection>? configureServices = null, Action<IpcWorkerOptions>? configure = null)
        where TWorker : IpcWorker<TIn, TOut> =>
        RunAsync(args, typeof(TWorker).Name, (services, child) => WorkerRegistrar.RegisterChildTyped<TWorker, TIn, TOut>(services, child, configure), configureServices);

    private static async Task<int> RunAsync(string[] args, string workerTypeName, Action<IServiceCollection, WorkerChildServiceProviderFactory> register, Action<IServiceCollection>? configureServices)
    {
        ArgumentNullException.ThrowIfNull(args);
        WorkerLaunchInfo info = IpcWorkerEnvironment.Read() ?? throw new InvalidOperationException(
            $"IpcWorkerHost.RunAsync<{workerTypeName}> runs a worker process, but this process was not launched as one " +
            $"({IpcWorkerEnvironment.WorkerVariable} and {IpcWorkerEnvironment.BootstrapVariable} are not set); check IpcWorkerEnvironment.IsWorker first.");

        // The sandbox's first stage, if the app's Main did not run it already: it restricts this thread and
        // re-executes the process (so it never returns when it runs), before anything else is set up.
        SandboxStages.RunFirstStageIfRequested();

        // The same registration as AddIpcWorker's in a worker: it starts connecting to the parent at once.
        var child = new WorkerChildServiceProviderFactory(info);
        var services = new ServiceCollection();
        register(services, child);
        using var lifetime = new WorkerProcessLifetime();
        services.AddSingleton<IHostApplicationLifetime>(lifetime);
        services.AddLogging();
        configureServices?.Invoke(services);
        child.CreateBuilder(services);

        ServiceProvider provider = child.CreateServiceProvider(services) as ServiceProvider
            ?? throw new InvalidOperationException("The worker's service provider is not a ServiceProvider.");
        await using (provider.ConfigureAwait(false))
        {
            // SIGTERM stops gracefully, SIGINT and SIGQUIT are ignored: the worker host's lifetime, on this lifetime.
            IHostLifetime signals = provider.GetRequiredService<IHostLifetime>();
            await signals.WaitForStartAsync(lifetime.ApplicationStopping).ConfigureAwait(false);

            List<IHostedService> workers = provider.GetServices<IHostedService>().ToList();
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using CancellationTokenRegistration onStop = lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());
            var started = new List<IHostedService>(workers.Count);
            try
            {
                foreach (IHostedService worker in workers)
                {
                    await worker.StartAsync(lifetime.ApplicationStopping).ConfigureAwait(false);
                    started.Add(worker);
                }

                lifetime.NotifyStarted();
                await stopped.Task.ConfigureAwait(false);
            }
            finally
            {
                using var timeout = new CancellationTokenSource(StopTimeout);
                for (int i = started.Count - 1; i >= 0; i--)
                {
                    await started[i].StopAsync(timeout.Token).ConfigureAwait(false);
                }

                lifetime.NotifyStopped();
                await signals.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        return Environment.ExitCode;
    }
}
