using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Supervisor;

/// <summary>
/// A worker's ends of brokered links: typed channels to other workers that the parent introduces (see
/// <c>AddIpcWorkerLink</c>). Data on a link flows worker to worker; the parent only hands the sender over,
/// and hands a new one over whenever either side restarts.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public sealed class IpcWorkerLinks
{
    private readonly Dictionary<string, ConsumerEnd> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ProducerEnd> _producers = new(StringComparer.Ordinal);
    private readonly TimeSpan _sendWait;
    private readonly IpcSerializerOptions _options;

    /// <param name="sendWait">How long a link's send waits for a consumer.</param>
    /// <param name="options">How messages on this worker's links are serialized: the worker's data options (with the
    /// app's message resolver, if it gave one: a NativeAOT worker needs it for its own types).</param>
    internal IpcWorkerLinks(TimeSpan sendWait, IpcSerializerOptions options)
    {
        _sendWait = sendWait;
        _options = options;
    }

    /// <summary>The receiving end of a link this worker consumes. The same receiver for the worker's life;
    /// producers come and go behind it (it is never disconnected while this worker lives).</summary>
    /// <typeparam name="T">The link's message type.</typeparam>
    /// <param name="link">The link's name.</param>
    /// <returns>The receiver (one reader at a time).</returns>
    /// <exception cref="InvalidOperationException">The link was already taken with another message type.</exception>
    public IpcReceiver<T> GetReceiver<T>(string link)
    {
        ArgumentException.ThrowIfNullOrEmpty(link);
        lock (_consumers)
        {
            ConsumerEnd end = GetConsumer(link);
            end.Typed ??= end.Raw!.To<T>();
            end.Raw = null;
            return end.Typed as IpcReceiver<T>
                ?? throw new InvalidOperationException($"The link '{link}' was already taken as a receiver of another message type ({end.Typed.GetType().Name}).");
        }
    }

    /// <summary>The sending end of a link this worker produces: restart-stable, it always sends to the current
    /// consumer and waits (bounded) while there is none.</summary>
    /// <typeparam name="T">The link's message type.</typeparam>
    /// <param name="link">The link's name.</param>
    /// <returns>The sender.</returns>
    public IpcWorkerLinkSender<T> GetSender<T>(string link)
    {
        ArgumentException.ThrowIfNullOrEmpty(link);
        lock (_producers)
        {
            return new IpcWorkerLinkSender<T>(link, GetProducer(link), _sendWait);
        }
    }

    /// <summary>Consumer side: makes a sender for the parent to hand to the link's producer.</summary>
    internal OpaqueIpcSender CreateSender(string link)
    {
        lock (_consumers)
        {
            return GetConsumer(link).Master.Clone();
        }
    }

    /// <summary>Producer side: the parent handed a sender over.</summary>
    internal void SetSender(string link, OpaqueIpcSender sender)
    {
        lock (_producers)
        {
            GetProducer(link).Set(sender);
        }
    }

    private ConsumerEnd GetConsumer(string link)
    {
        if (!_consumers.TryGetValue(link, out ConsumerEnd? end))
        {
            (IpcSender<byte> sender, IpcReceiver<byte> receiver) = Ipc.Channel<byte>(_options);
            end = new ConsumerEnd(sender.ToOpaque(), receiver.ToOpaque());
            _consumers.Add(link, end);
        }

        return end;
    }

    private ProducerEnd GetProducer(string link)
    {
        if (!_producers.TryGetValue(link, out ProducerEnd? end))
        {
            end = new ProducerEnd(_options);
            _producers.Add(link, end);
        }

        return end;
    }

    private sealed class ConsumerEnd(OpaqueIpcSender master, OpaqueIpcReceiver raw)
    {
        /// <summary>Kept so the receiver never sees a disconnection while producers restart.</summary>
        public OpaqueIpcSender Master { get; } = master;

        public OpaqueIpcReceiver? Raw { get; set; } = raw;

        public object? Typed { get; set; }
    }
}

/// <summary>The current sender of a produced link, replaced by the parent when the consumer restarts.</summary>
internal sealed class ProducerEnd(IpcSerializerOptions options)
{
    private readonly Lock _lock = new();
    private OpaqueIpcSender? _raw;
    private object? _typed;
    private TaskCompletionSource _available = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set(OpaqueIpcSender sender)
    {
        lock (_lock)
        {
            _raw?.Dispose();
            (_typed as IDisposable)?.Dispose();
            _raw = sender;
            _typed = null;
            _available.TrySetResult();
        }
    }

    /// <summary>The typed sender, or a task that completes when one arrives.</summary>
    public IpcSender<T>? TryGet<T>(out Task available)
    {
        lock (_lock)
        {
            available = _available.Task;
            if (_typed is null && _raw is not null)
            {
                // The sender arrived on the control channel (the protocol's options): type it with the links' own.
                _typed = _raw.To<T>(options);
                _raw = null;
            }

            return _typed as IpcSender<T>;
        }
    }

    /// <summary>Drops a sender whose consumer is gone, unless it was replaced meanwhile.</summary>
    public void Invalidate(object sender)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_typed, sender))
            {
                (_typed as IDisposable)?.Dispose();
                _typed = null;
                if (_available.Task.IsCompleted)
                {
                    _available = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }
    }
}
