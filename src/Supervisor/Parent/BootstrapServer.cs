using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Parent;

/// <summary>A worker that connected back: its control connection, its hello and its kernel-reported identity.</summary>
internal sealed record WorkerArrival(IpcReceiver<ControlUp> Control, WorkerHello Hello, IpcPeer Peer);

/// <summary>
/// The parent's one bootstrap server (an <see cref="IpcServer{T}"/>) that every worker connects back to.
/// Only processes of this user, or of the user ID of a launch in progress (a worker with a user of its own), are
/// accepted, and only with the one-time token of a launch in progress; any other client, or one that sends anything
/// but a hello, is closed and the server goes on.
/// </summary>
internal sealed partial class BootstrapServer : IDisposable
{
    private readonly IpcServer<ControlUp> _server;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<WorkerArrival>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly Task _accepting;

    /// <summary>The host user ID of each launch in progress that runs as a user of its own, by launch token.</summary>
    private readonly ConcurrentDictionary<string, uint> _launchUsers = new(StringComparer.Ordinal);

    /// <summary>Creates the server.</summary>
    /// <param name="logger">The supervisor's logger.</param>
    /// <param name="workerGroupId">
    /// The group that workers with users of their own run as, or null when there are none: the socket's private
    /// directory is then opened to that group (search), and the socket too (connect needs write on it); the directory
    /// stays unlistable, and the filter still admits only the users of launches in progress.
    /// </param>
    public BootstrapServer(ILogger logger, int? workerGroupId = null)
    {
        _logger = logger;
        uint uid = Interop.GetEffectiveUserId();
        _server = new IpcServer<ControlUp>(peer => peer.Uid == uid || IsLaunchUser(peer.Uid), ProtocolResolver.Options);
        if (workerGroupId is int group && !OperatingSystem.IsWindows())
        {
            try
            {
                OpenToGroup(_server.Name, group);
            }
            catch
            {
                _server.Dispose();
                throw;
            }
        }

        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Admits connections from <paramref name="userId"/> while the launch with <paramref name="token"/> is in progress.</summary>
    /// <param name="token">The launch's token (given to <see cref="Expect"/>).</param>
    /// <param name="userId">The host user ID the worker runs as.</param>
    public void AdmitUser(string token, int userId) => _launchUsers[token] = (uint)userId;

    /// <summary>The name workers connect to.</summary>
    public string Name => _server.Name;

    /// <summary>Waits for the worker launched with <paramref name="token"/>.</summary>
    public Task<WorkerArrival> Expect(string token)
    {
        var arrival = new TaskCompletionSource<WorkerArrival>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[token] = arrival;
        return arrival.Task;
    }

    /// <summary>Stops waiting for <paramref name="token"/>; a late hello with it is refused, and its user no longer admitted.</summary>
    public void Forget(string token)
    {
        _pending.TryRemove(token, out _);
        _launchUsers.TryRemove(token, out _);
    }

    /// <summary>Whether a launch in progress runs as <paramref name="uid"/> (the filter's second half).</summary>
    internal bool IsLaunchUser(uint uid)
    {
        foreach (KeyValuePair<string, uint> launch in _launchUsers)
        {
            if (launch.Value == uid)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Lets the workers' group reach the socket: its directory (made 0700 by the transport) becomes group-searchable,
    /// not listable, and the socket group-writable, both owned by <paramref name="groupId"/>.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void OpenToGroup(string socketPath, int groupId)
    {
        string directory = Path.GetDirectoryName(socketPath)!;
        foreach (string path in (ReadOnlySpan<string>)[directory, socketPath])
        {
            if (Interop.Chown(path, uint.MaxValue, (uint)groupId) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"The supervisor could not give its bootstrap socket {path} to the workers' group {groupId}: chown failed ({Marshal.GetPInvokeErrorMessage(errno)}).");
            }
        }

        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute);
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
    }

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
                _launchUsers.TryRemove(hello.Token, out _);
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
