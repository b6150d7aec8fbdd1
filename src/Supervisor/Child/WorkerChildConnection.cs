using System;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;
using IpcChannel.Supervisor.Sandbox;

namespace IpcChannel.Supervisor.Child;

/// <summary>
/// A worker's connection to its parent, opened on a pool thread as soon as <c>AddIpcWorker</c> recognises the
/// process as a worker, so that it runs while the app builds its host (configuration, DI) instead of after it.
/// </summary>
/// <remarks>
/// <para>What it takes off the start's critical path: connecting to the bootstrap server (the transport's first
/// use, which starts its I/O thread), creating the three channels the hello hands over, MessagePack's static
/// initialisation (its security settings seed a hash key from the system's cryptographic generator) and the
/// formatters of the worker's message types (for a type MessagePack has no built-in formatter for, this is where
/// the dynamic resolvers emit one). On a machine with a second idle CPU it runs in parallel with the host build.</para>
/// <para>Nothing is sent: the hello still goes out from <see cref="WorkerChildService{TWorker, TIn, TOut}.StartAsync"/>,
/// once the host is built and starting, exactly as before; a failure here is reported there.</para>
/// </remarks>
/// <typeparam name="TIn">Messages from the parent.</typeparam>
/// <typeparam name="TOut">Messages to the parent.</typeparam>
internal sealed class WorkerChildConnection<TIn, TOut>
{
    private WorkerChildConnection(WorkerLaunchInfo info, IpcSerializerOptions data)
    {
        // The sandbox's second stage first: seccomp on every thread (TSYNC; threads started later inherit it),
        // verified, before this process opens anything of its parent's. A no-op outside a sandboxed launch.
        Sandbox = SandboxStages.ApplySecondStage();
        ProtocolResolver.Warm<TIn, TOut>(data);
        // Sandboxed, stage 1 connected to the bootstrap server before it confined this process (which can no longer
        // see the server's socket, nor call connect); otherwise connect by name.
        Up = Sandbox.Connection is { } connection
            ? IpcSender<ControlUp>.AdoptConnection(connection, ProtocolResolver.Options)
            : IpcSender<ControlUp>.Connect(info.Bootstrap, ProtocolResolver.Options);
        try
        {
            (DataDownSender, DataDown) = Ipc.Channel<DownEnvelope<TIn>>(data);
            (DataUp, DataUpReceiver) = Ipc.Channel<UpEnvelope<TOut>>(data);
            (ControlDownSender, ControlDown) = Ipc.Channel<ControlDown>(ProtocolResolver.Options);
        }
        catch
        {
            Up.Dispose();
            DataDownSender?.Dispose();
            DataDown?.Dispose();
            DataUp?.Dispose();
            DataUpReceiver?.Dispose();
            throw;
        }
    }

    /// <summary>What the sandbox's second stage applied (not sandboxed outside a sandboxed launch).</summary>
    public SandboxStatus Sandbox { get; }

    /// <summary>The bootstrap connection (hello, pongs, logs, link senders).</summary>
    public IpcSender<ControlUp> Up { get; }

    /// <summary>The parent's end of the data-down channel, handed over in the hello.</summary>
    public IpcSender<DownEnvelope<TIn>> DataDownSender { get; }

    /// <summary>Messages and requests from the parent.</summary>
    public IpcReceiver<DownEnvelope<TIn>> DataDown { get; }

    /// <summary>Messages and responses to the parent.</summary>
    public IpcSender<UpEnvelope<TOut>> DataUp { get; }

    /// <summary>The parent's end of the data-up channel, handed over in the hello.</summary>
    public IpcReceiver<UpEnvelope<TOut>> DataUpReceiver { get; }

    /// <summary>The parent's end of the control-down channel, handed over in the hello.</summary>
    public IpcSender<ControlDown> ControlDownSender { get; }

    /// <summary>Pings, activation, stop and links from the parent.</summary>
    public IpcReceiver<ControlDown> ControlDown { get; }

    /// <summary>Starts opening the connection on a pool thread.</summary>
    /// <param name="info">What the parent told this process.</param>
    /// <param name="data">The options of the data channels (the worker's message resolver, if the app gave one).</param>
    /// <returns>The connection; faults with the <see cref="IpcException"/> of a failed connect, or the
    /// <see cref="SandboxException"/> of a sandbox stage that could not be applied.</returns>
    public static Task<WorkerChildConnection<TIn, TOut>> OpenAsync(WorkerLaunchInfo info, IpcSerializerOptions data)
    {
        Task<WorkerChildConnection<TIn, TOut>> opening = Task.Run(() => new WorkerChildConnection<TIn, TOut>(info, data));

        // A host that fails to build never awaits it: observe the fault so it is not reported as unobserved.
        _ = opening.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        return opening;
    }
}

/// <summary>The worker's connection being opened (a DI singleton of the worker process), and the options of its data
/// channels and links (the app's message resolver, if it gave one).</summary>
/// <typeparam name="TIn">Messages from the parent.</typeparam>
/// <typeparam name="TOut">Messages to the parent.</typeparam>
/// <param name="Opening">Completes with the connection, or faults with the failed connect's exception.</param>
/// <param name="Data">The options of its data channels and links.</param>
internal sealed record PendingWorkerConnection<TIn, TOut>(Task<WorkerChildConnection<TIn, TOut>> Opening, IpcSerializerOptions Data);
