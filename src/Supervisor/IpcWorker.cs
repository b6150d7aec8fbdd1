using System;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Supervisor;

/// <summary>
/// The base of a worker: a class that runs in its own process, supervised by the parent host, and talks to
/// the parent with typed messages. Register it with <c>AddIpcWorker&lt;TWorker&gt;()</c>; the parent talks to
/// it through <see cref="IpcWorkerClient{TIn, TOut}"/>.
/// </summary>
/// <typeparam name="TIn">What the parent sends (one-way messages and requests).</typeparam>
/// <typeparam name="TOut">What the worker sends (responses and messages of its own).</typeparam>
/// <remarks>
/// <para>Like a <c>BackgroundService</c> (and an Erlang <c>gen_server</c>): the worker is created from the
/// child's DI container, <see cref="ExecuteAsync"/> runs for its whole life, and incoming messages are
/// dispatched one at a time, in order, to <see cref="OnMessageAsync"/> (a cast) and
/// <see cref="OnRequestAsync"/> (a call).</para>
/// <para>Exits: <see cref="ExecuteAsync"/> returning ends the worker normally (exit code 0: a transient
/// worker is then not restarted); it or <see cref="OnMessageAsync"/> throwing ends it abnormally (exit code
/// 1: a crash, "let it crash"). A throwing <see cref="OnRequestAsync"/> fails only that request (the caller
/// gets <see cref="IpcWorkerRequestException"/>) and the worker goes on.</para>
/// </remarks>
/// <example>
/// <code>
/// public sealed class Resizer : IpcWorker&lt;ResizeRequest, ResizeResult&gt;
/// {
///     protected override ValueTask&lt;ResizeResult&gt; OnRequestAsync(ResizeRequest request, CancellationToken ct) =&gt;
///         ValueTask.FromResult(new ResizeResult(request.Width / 2));
/// }
/// </code>
/// </example>
public abstract class IpcWorker<TIn, TOut>
{
    private IWorkerRuntime<TOut>? _runtime;

    /// <summary>This worker's name.</summary>
    protected string WorkerName => Runtime.WorkerName;

    /// <summary>This process's incarnation (1 for the first start).</summary>
    protected int Incarnation => Runtime.Incarnation;

    /// <summary>Channels to other workers brokered by the parent (see <c>AddIpcWorkerLink</c>).</summary>
    protected IpcWorkerLinks Links => Runtime.Links;

    private IWorkerRuntime<TOut> Runtime => _runtime ?? throw new InvalidOperationException("The worker is not attached to its runtime yet; use it from ExecuteAsync or the message handlers, not the constructor.");

    /// <summary>Sends a message of the worker's own to the parent (read there with <see cref="IpcWorkerClient{TIn, TOut}.ReceiveAsync"/>).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    /// <exception cref="IpcDisconnectedException">The parent is gone.</exception>
    protected ValueTask SendToParentAsync(TOut message, CancellationToken cancellationToken = default) =>
        Runtime.SendToParentAsync(message, cancellationToken);

    /// <summary>The worker's life, in its process. The default waits until the worker is stopped.</summary>
    /// <param name="stoppingToken">Cancelled when the worker is asked to stop (graceful stop, SIGTERM, or the parent gone).</param>
    /// <returns>A task whose completion ends the worker: normally when it completes, abnormally when it faults.</returns>
    protected virtual async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped: the normal end.
        }
    }

    /// <summary>Handles a one-way message from the parent (<see cref="IpcWorkerClient{TIn, TOut}.SendAsync"/>).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancelled when the worker stops.</param>
    /// <returns>A task; the next message is dispatched after it completes. A fault crashes the worker.</returns>
    /// <exception cref="NotSupportedException">Not overridden.</exception>
    protected virtual ValueTask OnMessageAsync(TIn message, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} does not handle one-way messages: override OnMessageAsync.");

    /// <summary>Answers a request from the parent (<see cref="IpcWorkerClient{TIn, TOut}.RequestAsync"/>).</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancelled when the worker stops.</param>
    /// <returns>The response.</returns>
    /// <exception cref="NotSupportedException">Not overridden.</exception>
    protected virtual ValueTask<TOut> OnRequestAsync(TIn request, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} does not answer requests: override OnRequestAsync.");

    internal void Attach(IWorkerRuntime<TOut> runtime) => _runtime = runtime;

    internal Task RunAsync(CancellationToken stoppingToken) => ExecuteAsync(stoppingToken);

    internal ValueTask HandleMessageAsync(TIn message, CancellationToken cancellationToken) => OnMessageAsync(message, cancellationToken);

    internal ValueTask<TOut> HandleRequestAsync(TIn request, CancellationToken cancellationToken) => OnRequestAsync(request, cancellationToken);
}

/// <summary>What a worker object sees of the child runtime.</summary>
/// <typeparam name="TOut">The worker's output type.</typeparam>
internal interface IWorkerRuntime<TOut>
{
    string WorkerName { get; }

    int Incarnation { get; }

    IpcWorkerLinks Links { get; }

    ValueTask SendToParentAsync(TOut message, CancellationToken cancellationToken);
}
