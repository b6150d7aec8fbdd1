using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Parent;
using IpcChannel.Supervisor.Protocol;

namespace IpcChannel.Supervisor;

/// <summary>
/// The parent's handle to a supervised worker, resolved from DI. It is restart-stable: the same object talks
/// to whichever incarnation of the worker is current, and waits (bounded, see
/// <see cref="IpcWorkerOptions.UnavailablePolicy"/>) while the worker is down.
/// </summary>
/// <typeparam name="TIn">What the parent sends.</typeparam>
/// <typeparam name="TOut">What the worker answers and sends on its own.</typeparam>
/// <remarks>
/// <para>Thread-safe: any number of callers may send and request at once. One reader at a time for
/// <see cref="ReceiveAsync"/>/<see cref="ReadAllAsync"/>.</para>
/// <para>Delivery: a send either completes (the message is queued to a live incarnation) or throws; nothing
/// is dropped silently while the worker is down. A message queued to an incarnation that then crashes before
/// handling it is lost with that process; use <see cref="RequestAsync"/> when the caller must know it was
/// handled (it then fails with <see cref="IpcWorkerCrashedException"/>).</para>
/// </remarks>
/// <example>
/// <code>
/// builder.AddIpcWorker&lt;Resizer&gt;();
/// // later, in any service:
/// public sealed class Api(IpcWorkerClient&lt;ResizeRequest, ResizeResult&gt; resizer)
/// {
///     public Task&lt;ResizeResult&gt; ResizeAsync(ResizeRequest r) =&gt; resizer.RequestAsync(r, TimeSpan.FromSeconds(2));
/// }
/// </code>
/// </example>
public sealed class IpcWorkerClient<TIn, TOut>
{
    private readonly WorkerSlot<TIn, TOut> _slot;
    private readonly Lock _lock = new();
    private readonly Channel<TOut> _inbox;
    private WorkerConnection<TIn, TOut>? _current;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IpcWorkerState? _terminal;
    private long _nextId;

    internal IpcWorkerClient(WorkerSlot<TIn, TOut> slot)
    {
        _slot = slot;
        _inbox = Channel.CreateBounded<TOut>(new BoundedChannelOptions(Math.Max(1, slot.Options.InboxCapacity))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
    }

    /// <summary>The worker's name.</summary>
    public string Name => _slot.Name;

    /// <summary>A snapshot of the worker: state, pid, incarnation, restarts.</summary>
    public IpcWorkerStatus Status => _slot.Status;

    /// <summary>Sends a one-way message (handled by the worker's <c>OnMessageAsync</c>).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the message is queued to a live incarnation.</returns>
    /// <exception cref="IpcWorkerUnavailableException">The worker was down for longer than allowed; nothing was sent.</exception>
    /// <exception cref="IpcSerializationException">The message cannot be serialized.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async ValueTask SendAsync(TIn message, CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            WorkerConnection<TIn, TOut> connection = await GetConnectionAsync(start, cancellationToken).ConfigureAwait(false);
            try
            {
                await connection.Sender.SendAsync(new DownEnvelope<TIn>(DownKind.Message, 0, message), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (IsGone(e, connection))
            {
                ClearConnection(connection);
            }
        }
    }

    /// <summary>Sends a request and waits for its answer (handled by the worker's <c>OnRequestAsync</c>), matched by a correlation id.</summary>
    /// <param name="request">The request.</param>
    /// <param name="timeout">How long to wait for the answer once sent; null uses <see cref="IpcWorkerOptions.RequestTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The answer.</returns>
    /// <exception cref="IpcWorkerUnavailableException">The worker was down for longer than allowed; nothing was sent.</exception>
    /// <exception cref="IpcWorkerCrashedException">The incarnation that got the request ended before answering.</exception>
    /// <exception cref="IpcWorkerRequestException">The worker's handler threw.</exception>
    /// <exception cref="TimeoutException">No answer within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async Task<TOut> RequestAsync(TIn request, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        TimeSpan limit = timeout ?? _slot.Options.RequestTimeout;
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            WorkerConnection<TIn, TOut> connection = await GetConnectionAsync(start, cancellationToken).ConfigureAwait(false);
            long id = Interlocked.Increment(ref _nextId);
            TaskCompletionSource<TOut> answer = connection.Register(id);
            try
            {
                await connection.Sender.SendAsync(new DownEnvelope<TIn>(DownKind.Request, id, request), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsGone(e, connection))
            {
                connection.Forget(id);
                ClearConnection(connection);
                continue;
            }
            catch
            {
                connection.Forget(id);
                throw;
            }

            try
            {
                return await answer.Task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                connection.Forget(id);
                throw new TimeoutException($"The IPC worker '{Name}' did not answer request {id} within {limit.TotalMilliseconds:0} ms.");
            }
            catch (OperationCanceledException)
            {
                connection.Forget(id);
                throw;
            }
        }
    }

    /// <summary>Waits for the next message the worker sent on its own (from any incarnation).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The message.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public ValueTask<TOut> ReceiveAsync(CancellationToken cancellationToken = default) => _inbox.Reader.ReadAsync(cancellationToken);

    /// <summary>Takes a message the worker sent, if one is waiting.</summary>
    /// <param name="message">The message.</param>
    /// <returns>Whether one was waiting.</returns>
    public bool TryReceive([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TOut message) => _inbox.Reader.TryRead(out message);

    /// <summary>Reads the messages the worker sends on its own, across restarts, until cancelled.</summary>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    /// <returns>The messages, in order per incarnation.</returns>
    public async IAsyncEnumerable<TOut> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await _inbox.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_inbox.Reader.TryRead(out TOut? message))
            {
                yield return message;
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"IpcWorkerClient<{typeof(TIn).Name}, {typeof(TOut).Name}> '{Name}' ({_slot.State})";

    internal ValueTask DeliverAsync(TOut message) => _inbox.Writer.WriteAsync(message);

    internal void SetConnection(WorkerConnection<TIn, TOut> connection)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _current = connection;
            _terminal = null;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    internal void ClearConnection(WorkerConnection<TIn, TOut> connection)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_current, connection))
            {
                _current = null;
            }
        }
    }

    internal void SetTerminal(IpcWorkerState state)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _current = null;
            _terminal = state;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private static bool IsGone(Exception e, WorkerConnection<TIn, TOut> connection) =>
        e is IpcDisconnectedException || (e is ObjectDisposedException && connection.Run.Ended.IsCompleted);

    private async ValueTask<WorkerConnection<TIn, TOut>> GetConnectionAsync(long start, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_current is { } current)
                {
                    return current;
                }

                if (_terminal is { } terminal)
                {
                    throw new IpcWorkerUnavailableException(Name, terminal, Stopwatch.GetElapsedTime(start));
                }

                changed = _changed.Task;
            }

            TimeSpan waited = Stopwatch.GetElapsedTime(start);
            TimeSpan left = _slot.Options.UnavailableTimeout - waited;
            if (_slot.Options.UnavailablePolicy == IpcUnavailablePolicy.FailFast || left <= TimeSpan.Zero)
            {
                throw new IpcWorkerUnavailableException(Name, _slot.State, waited);
            }

            try
            {
                await changed.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Timers may fire a little before the stopwatch says the bound has passed (coarse tick);
                // loop so the caller is told only once the whole bound has really elapsed.
            }
        }
    }
}
