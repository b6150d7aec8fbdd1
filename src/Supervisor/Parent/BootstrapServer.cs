using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Parent;

/// <summary>A worker that connected back: its control connection, its hello and its kernel-reported identity.</summary>
internal sealed record WorkerArrival(IpcReceiver<ControlUp> Control, WorkerHello Hello, IpcPeer Peer);

/// <summary>
/// The parent's one bootstrap server (an <see cref="IpcServer{T}"/>) that every worker connects back to.
/// Only processes of this user are accepted, and only with the one-time token of a launch in progress; any
/// other client, or one that sends anything but a hello, is closed and the server goes on.
/// </summary>
internal sealed partial class BootstrapServer : IDisposable
{
    private readonly IpcServer<ControlUp> _server;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<WorkerArrival>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly Task _accepting;

    public BootstrapServer(ILogger logger)
    {
        _logger = logger;
        uint uid = Interop.GetEffectiveUserId();
        _server = new IpcServer<ControlUp>(peer => peer.Uid == uid, ProtocolResolver.Options);
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The name workers connect to.</summary>
    public string Name => _server.Name;

    /// <summary>Waits for the worker launched with <paramref name="token"/>.</summary>
    public Task<WorkerArrival> Expect(string token)
    {
        var arrival = new TaskCompletionSource<WorkerArrival>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[token] = arrival;
        return arrival.Task;
    }

    /// <summary>Stops waiting for <paramref name="token"/>; a late hello with it is refused.</summary>
    public void Forget(string token) => _pending.TryRemove(token, out _);

    public void Dispose()
    {
        _stop.Cancel();
        _server.Dispose();
        foreach (TaskCompletionSource<WorkerArrival> arrival in _pending.Values)
        {
            arrival.TrySetCanceled();
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            (IpcReceiver<ControlUp> Receiver, ControlUp First, IpcPeer Peer) client;
            try
            {
                client = await _server.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && _stop.IsCancellationRequested)
            {
                return;
            }
            catch (IpcException e)
            {
                Log.Refused(_logger, 0, e.Message);
                continue;
            }
            catch (Exception e)
            {
                Log.AcceptFailed(_logger, e);
                return;
            }

            WorkerHello? hello = client.First.Hello;
            if (client.First.Kind == ControlUpKind.Hello && hello is not null && _pending.TryRemove(hello.Token, out TaskCompletionSource<WorkerArrival>? arrival)
                && arrival.TrySetResult(new WorkerArrival(client.Receiver, hello, client.Peer)))
            {
                continue;
            }

            Log.Refused(_logger, client.Peer.Pid, hello is null ? "its first message is not a hello" : "unknown or expired launch token");
            client.Receiver.Dispose();
            client.First.Sender?.Dispose();
            if (hello is not null)
            {
                hello.DataDown.Dispose();
                hello.DataUp.Dispose();
                hello.ControlDown.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.BootstrapRefused, Level = LogLevel.Warning, Message = "The supervisor's bootstrap server refused a client (pid {Pid}): {Reason}.")]
        public static partial void Refused(ILogger logger, int pid, string reason);

        [LoggerMessage(EventId = LogEvents.BootstrapFailed, Level = LogLevel.Critical, Message = "The supervisor's bootstrap server stopped accepting: workers can no longer connect back.")]
        public static partial void AcceptFailed(ILogger logger, Exception exception);
    }
}
