using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;

namespace IpcChannel.Supervisor.Parent;

/// <summary>The typed data channel of one incarnation, with its requests in flight (by correlation id).</summary>
internal sealed class WorkerConnection<TIn, TOut> : IDisposable
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource<TOut>> _pending = new();
    private Exception? _failure;

    public WorkerConnection(WorkerRun run, IpcSender<DownEnvelope<TIn>> sender, IpcReceiver<UpEnvelope<TOut>> receiver)
    {
        Run = run;
        Sender = sender;
        Receiver = receiver;
    }

    public WorkerRun Run { get; }

    public IpcSender<DownEnvelope<TIn>> Sender { get; }

    public IpcReceiver<UpEnvelope<TOut>> Receiver { get; }

    /// <summary>The data pump; it ends when the channel is drained and disconnected.</summary>
    public Task Pump { get; set; } = Task.CompletedTask;

    /// <summary>Registers a request; it completes with the answer, or fails when the incarnation goes down.</summary>
    public TaskCompletionSource<TOut> Register(long id)
    {
        var completion = new TaskCompletionSource<TOut>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = completion;
        if (Volatile.Read(ref _failure) is { } failure)
        {
            _pending.TryRemove(id, out _);
            completion.TrySetException(failure);
        }

        return completion;
    }

    public void Forget(long id) => _pending.TryRemove(id, out _);

    public void Complete(long id, TOut value)
    {
        if (_pending.TryRemove(id, out TaskCompletionSource<TOut>? completion))
        {
            completion.TrySetResult(value);
        }
    }

    public void Fail(long id, Exception error)
    {
        if (_pending.TryRemove(id, out TaskCompletionSource<TOut>? completion))
        {
            completion.TrySetException(error);
        }
    }

    public void FailPending(Exception error)
    {
        Interlocked.CompareExchange(ref _failure, error, null);
        foreach (long id in _pending.Keys)
        {
            Fail(id, error);
        }
    }

    public void Dispose()
    {
        Sender.Dispose();
        Receiver.Dispose();
    }
}
