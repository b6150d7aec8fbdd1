using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace IpcChannel;

/// <summary>
/// Runs handlers for messages of many receivers on one background thread, over one receiver set (the
/// equivalent of ipc-channel's <c>ROUTER</c>).
/// </summary>
/// <remarks>
/// <para>Handlers run on the router thread, in message order per receiver; a slow handler delays every route.
/// A handler that throws, or a message that does not deserialize, is logged through <see cref="Logger"/> and
/// the router goes on. When a routed channel closes its route ends: its <c>onClosed</c> callback runs, or its
/// <see cref="ChannelReader{T}"/> completes.</para>
/// <para>After <see cref="Shutdown"/>, routes added are dropped: their receivers are closed without running
/// anything.</para>
/// </remarks>
public sealed partial class IpcRouter : IDisposable
{
    private const byte WakeUp = 1;
    private const byte Stop = 2;

    private static readonly Lazy<IpcRouter> s_default = new(() => new IpcRouter(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly IpcReceiverSet _set;
    private readonly IpcBytesSender _wakeUp;
    private readonly ulong _wakeUpId;
    private readonly ConcurrentQueue<Route> _pending = new();
    private readonly Dictionary<ulong, Route> _routes = new();
    private readonly Thread _thread;
    private ILogger _logger;
    private int _shutdown;

    /// <summary>
    /// 1 while a wake-up message is queued and not yet handled. At most one is ever outstanding, so the wake-up
    /// channel cannot fill up: a full one would block AddRoute callers, and deadlock the router thread itself
    /// when its handlers add routes.
    /// </summary>
    private int _wakeUpQueued;

    /// <summary>Orders enqueuing a route against the router thread's final drain (see <see cref="_stopped"/>).</summary>
    private readonly object _pendingGate = new();

    /// <summary>Set, under <see cref="_pendingGate"/>, once the router thread takes no more pending routes.</summary>
    private bool _stopped;

    /// <summary>Creates a router with its own thread.</summary>
    /// <param name="logger">Where handler failures and malformed messages are logged; none when null.</param>
    /// <exception cref="IpcException">The OS refused.</exception>
    public IpcRouter(ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _set = new IpcReceiverSet();
        (IpcBytesSender sender, IpcBytesReceiver receiver) = Ipc.BytesChannel();
        _wakeUp = sender;
        _wakeUpId = _set.Add(receiver);
        _thread = new Thread(Run) { IsBackground = true, Name = "IpcChannel router" };
        _thread.Start();
    }

    /// <summary>The process-wide router, started on first use.</summary>
    public static IpcRouter Default => s_default.Value;

    /// <summary>Where handler failures and malformed messages are logged. Set it at startup (for example from DI).</summary>
    public ILogger Logger
    {
        get => Volatile.Read(ref _logger);
        set => Volatile.Write(ref _logger, value ?? NullLogger.Instance);
    }

    /// <summary>Runs <paramref name="handler"/> on the router thread for every message of <paramref name="receiver"/>.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="receiver">The receiver; moved into the router.</param>
    /// <param name="handler">Called once per message, in order.</param>
    /// <param name="onClosed">Called once when the channel closes (every sender gone); optional.</param>
    public void AddRoute<T>(IpcReceiver<T> receiver, Action<T> handler, Action? onClosed = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(handler);
        Enqueue(new Route(receiver.ToOpaque(), message => handler(message.Deserialize<T>()), onClosed, typeof(T)));
    }

    /// <summary>
    /// Runs <paramref name="handler"/> on the router thread for the first message of <paramref name="receiver"/>
    /// only; the route then ends: its receiver is closed (senders get <see cref="IpcDisconnectedException"/>) and
    /// the handler is released. If the channel closes before a message, the handler never runs.
    /// </summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="receiver">The receiver; moved into the router.</param>
    /// <param name="handler">Called at most once.</param>
    public void AddOneShotRoute<T>(IpcReceiver<T> receiver, Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(handler);
        Enqueue(new Route(receiver.ToOpaque(), message => handler(message.Deserialize<T>()), null, typeof(T)) { OneShot = true });
    }

    /// <summary>Forwards every message of <paramref name="receiver"/> into an in-process channel.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="receiver">The receiver; moved into the router.</param>
    /// <returns>The reading side: it completes when the IPC channel closes (or the router shuts down).</returns>
    public ChannelReader<T> RouteToChannel<T>(IpcReceiver<T> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        Channel<T> channel = System.Threading.Channels.Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleWriter = true });
        Enqueue(new Route(
            receiver.ToOpaque(),
            message => channel.Writer.TryWrite(message.Deserialize<T>()),
            () => channel.Writer.TryComplete(),
            typeof(T)));
        return channel.Reader;
    }

    /// <summary>Stops the router thread and closes every routed receiver. Idempotent.</summary>
    public void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0)
        {
            return;
        }

        try
        {
            _wakeUp.Send([Stop]);
        }
        catch (IpcException)
        {
            // The router thread already ended and closed its side.
        }

        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    /// <summary>Same as <see cref="Shutdown"/>.</summary>
    public void Dispose() => Shutdown();

    private void Enqueue(Route route)
    {
        bool queued = false;
        lock (_pendingGate)
        {
            // Under the gate, a route is either queued before the final drain (which then drops it) or dropped
            // here: never left in the queue after the router thread is gone.
            if (!_stopped && Volatile.Read(ref _shutdown) == 0)
            {
                _pending.Enqueue(route);
                queued = true;
            }
        }

        if (!queued)
        {
            route.Drop(Logger);
            return;
        }

        if (Interlocked.Exchange(ref _wakeUpQueued, 1) != 0)
        {
            // A wake-up is already on its way; the router thread takes every pending route when it handles it.
            return;
        }

        try
        {
            _wakeUp.Send([WakeUp]);
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException)
        {
            // Shut down meanwhile: the route will be dropped by the thread's final drain.
        }
    }

    private void Run()
    {
        bool running = true;
        try
        {
            while (running)
            {
                IReadOnlyList<IpcSelectionResult> results;
                try
                {
                    results = _set.Select();
                }
                catch (IpcException e)
                {
                    Log.MalformedMessage(Logger, e);
                    continue;
                }

                foreach (IpcSelectionResult result in results)
                {
                    if (result.Id == _wakeUpId)
                    {
                        running &= HandleWakeUp(result);
                    }
                    else
                    {
                        Dispatch(result);
                    }
                }
            }
        }
        catch (Exception e)
        {
            Environment.FailFast("IpcChannel's router loop failed unexpectedly.", e);
        }
        finally
        {
            _set.Dispose();
            _wakeUp.Dispose();
            foreach (Route route in _routes.Values)
            {
                route.Close(Logger);
            }

            _routes.Clear();
            lock (_pendingGate)
            {
                _stopped = true;
            }

            while (_pending.TryDequeue(out Route? late))
            {
                late.Drop(Logger);
            }
        }
    }

    private bool HandleWakeUp(IpcSelectionResult result)
    {
        if (result is not IpcMessageReceived { Message: var message } || message.Data.Span.IndexOf(Stop) >= 0)
        {
            return false;
        }

        // From here on, a newly enqueued route sends a new wake-up.
        Interlocked.Exchange(ref _wakeUpQueued, 0);
        while (_pending.TryDequeue(out Route? route))
        {
            ulong id = _set.AddOpaque(route.Receiver);
            _routes.Add(id, route);
        }

        return true;
    }

    /// <summary>Runs the route of <paramref name="result"/>.</summary>
    /// <remarks>
    /// The route is looked up here, not in <see cref="Run"/>: a local of the loop would keep the last route (its
    /// handler and everything it captures) reachable while the thread waits in the next select, when the JIT keeps
    /// locals alive for the whole method (debug code).
    /// </remarks>
    private void Dispatch(IpcSelectionResult result)
    {
        if (!_routes.TryGetValue(result.Id, out Route? route))
        {
            return;
        }

        switch (result)
        {
            case IpcMessageReceived received:
                if (route.OneShot)
                {
                    // Ended before the handler runs, so messages of this select already collected behind this one
                    // find no route, and a handler that throws still ends it.
                    _routes.Remove(result.Id);
                    _set.Close(result.Id);
                }

                try
                {
                    route.Handler(received.Message);
                }
                catch (Exception e)
                {
                    Log.HandlerFailed(Logger, route.MessageType.Name, result.Id, e);
                }
                finally
                {
                    received.Message.Dispose();
                }

                break;
            case IpcChannelClosed:
                _routes.Remove(result.Id);
                route.Close(Logger);
                break;
        }
    }

    private sealed record Route(OpaqueIpcReceiver Receiver, Action<IpcMessage> Handler, Action? OnClosed, Type MessageType)
    {
        /// <summary>Whether the route ends after its first message (<see cref="AddOneShotRoute{T}"/>).</summary>
        public bool OneShot { get; init; }

        public void Close(ILogger logger)
        {
            try
            {
                OnClosed?.Invoke();
            }
            catch (Exception e)
            {
                Log.ClosedCallbackFailed(logger, MessageType.Name, e);
            }
        }

        /// <summary>Ends a route that never ran (added after shutdown): its handler never runs, its end is signalled.</summary>
        public void Drop(ILogger logger)
        {
            Receiver.Dispose();

            // Logged, not thrown: on the router thread an exception here would escape its finally and end the process.
            Close(logger);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "An IpcRouter handler for {MessageType} (route {RouteId}) threw; the router goes on.")]
        public static partial void HandlerFailed(ILogger logger, string messageType, ulong routeId, Exception exception);

        [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "The IpcRouter received a malformed message; it was discarded.")]
        public static partial void MalformedMessage(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "An IpcRouter route's closed callback for {MessageType} threw.")]
        public static partial void ClosedCallbackFailed(ILogger logger, string messageType, Exception exception);
    }
}
