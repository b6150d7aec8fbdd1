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
/// Only processes that are a launch in progress (the launched process, or a descendant of it when the launch runs
/// under a forking prefix such as the sandbox's <c>unshare --fork</c>) and run as this user or as that launch's own
/// user (a worker with a user of its own) are accepted, and only with the one-time token of that launch; any other client, or one that sends anything but a hello, is closed and the
/// server goes on. A connection that stays silent is closed at the first-message deadline (the longest start
/// timeout: a launch that has not said hello by then is killed anyway), or earlier when silent connections fill
/// the server's pending set.
/// </summary>
internal sealed partial class BootstrapServer : IDisposable
{
    /// <summary>The largest first message (a hello: a token, names and three channel ends) the server reads.</summary>
    internal const int MaxHelloSize = 64 * 1024;

    /// <summary>How many generations below a launched process a worker may be (launch prefixes that fork).</summary>
    private const int MaxLaunchDepth = 8;

    private readonly IpcServer<ControlUp> _server;
    private readonly ConcurrentDictionary<string, Launch> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly uint _uid = Interop.GetEffectiveUserId();
    private readonly bool _trustPeers;
    private readonly Task _accepting;

    /// <summary>Creates the server and starts accepting.</summary>
    /// <param name="logger">The supervisor's logger.</param>
    /// <param name="firstMessageTimeout">How long a connection may stay silent before its hello.</param>
    /// <param name="trustPeers">Accept any process of this user (or of a launch's own user), with no first-message
    /// deadline (only the tests' twins, which show the attacks these defences stop).</param>
    /// <param name="workerGroupId">
    /// The group that workers with users of their own run as, or null when there are none: the socket's private
    /// directory is then opened to that group (search), and the socket too (connect needs write on it); the directory
    /// stays unlistable, and the filter still admits only the users of launches in progress.
    /// </param>
    public BootstrapServer(ILogger logger, TimeSpan firstMessageTimeout, bool trustPeers = false, int? workerGroupId = null)
    {
        _logger = logger;
        _trustPeers = trustPeers;
        _server = trustPeers
            ? new IpcServer<ControlUp>(peer => peer.Uid == _uid || IsLaunchUser(peer.Uid), ProtocolResolver.Options.WithMaxMessageSize(MaxHelloSize), Timeout.InfiniteTimeSpan)
            : new IpcServer<ControlUp>(Admits, ProtocolResolver.Options.WithMaxMessageSize(MaxHelloSize), firstMessageTimeout);
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
    public void AdmitUser(string token, int userId)
    {
        if (_pending.TryGetValue(token, out Launch? launch))
        {
            Volatile.Write(ref launch.UserId, userId);
        }
    }

    /// <summary>The name workers connect to.</summary>
    public string Name => _server.Name;

    /// <summary>Waits for the worker launched with <paramref name="token"/>; call <see cref="Launched"/> once its
    /// process exists.</summary>
    public Task<WorkerArrival> Expect(string token)
    {
        var launch = new Launch();
        _pending[token] = launch;
        return launch.Arrival.Task;
    }

    /// <summary>Records the pid of the process launched with <paramref name="token"/>: only it (or its child) may
    /// connect for that launch.</summary>
    public void Launched(string token, int pid)
    {
        if (_pending.TryGetValue(token, out Launch? launch))
        {
            Volatile.Write(ref launch.Pid, pid);
        }
    }

    /// <summary>Stops waiting for <paramref name="token"/>; a late hello with it is refused, and its user no longer admitted.</summary>
    public void Forget(string token)
    {
        _pending.TryRemove(token, out _);
    }

    /// <summary>Whether a launch in progress runs as <paramref name="uid"/>.</summary>
    internal bool IsLaunchUser(uint uid)
    {
        foreach (Launch launch in _pending.Values)
        {
            if (launch.RunsAs(uid))
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
        foreach (Launch launch in _pending.Values)
        {
            launch.Arrival.TrySetCanceled();
        }
    }

    /// <summary>
    /// The filter, run before anything of a peer is read: a process of a launch in progress, running as this user or
    /// as that launch's own user. While a launch's process is being started (between <see cref="Expect"/> and
    /// <see cref="Launched"/>: the sandbox plan, its preparation and the process start) its pid is not known yet, and any process is let through to the
    /// token check.
    /// </summary>
    private bool Admits(IpcPeer peer)
    {
        foreach (Launch launch in _pending.Values)
        {
            if ((peer.Uid == _uid || launch.RunsAs(peer.Uid)) && IsOf(launch, peer.Pid))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="peerPid"/> is the process of <paramref name="launch"/> or one of its descendants (a
    /// launch prefix may fork: the sandbox's <c>unshare --fork</c> runs the worker as its child); true while the
    /// launch's pid is not known yet. A hello must carry the token of its own launch, not of a sibling's.
    /// </summary>
    private static bool IsOf(Launch launch, int peerPid)
    {
        int pid = Volatile.Read(ref launch.Pid);
        if (pid == 0)
        {
            return true;
        }

        int ancestor = peerPid;
        for (int depth = 0; depth < MaxLaunchDepth && ancestor > 1; depth++)
        {
            if (ancestor == pid)
            {
                return true;
            }

            ancestor = ParentPid(ancestor);
        }

        return false;
    }

    /// <summary>The parent pid of <paramref name="pid"/> from <c>/proc/{pid}/stat</c>, or 0 when it is gone.</summary>
    private static int ParentPid(int pid)
    {
        string stat;
        try
        {
            stat = System.IO.File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
        int close = stat.LastIndexOf(')');
        string[] fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return close > 0 && fields.Length > 1 && int.TryParse(fields[1], out int parent) ? parent : 0;
    }

    /// <summary>A launch in progress: its arrival, and its process once started (0 until then).</summary>
    private sealed class Launch
    {
        public readonly TaskCompletionSource<WorkerArrival> Arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Pid;

        /// <summary>The host user ID the launch runs as when it has a user of its own (-1: the supervisor's).</summary>
        public int UserId = -1;

        public bool RunsAs(uint uid) => Volatile.Read(ref UserId) is int own and >= 0 && (uint)own == uid;
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
            if (client.First.Kind == ControlUpKind.Hello && hello is not null
                && _pending.TryGetValue(hello.Token, out Launch? launch) && (_trustPeers || IsOf(launch, client.Peer.Pid))
                && _pending.TryRemove(new KeyValuePair<string, Launch>(hello.Token, launch))
                && launch.Arrival.TrySetResult(new WorkerArrival(client.Receiver, hello, client.Peer)))
            {
                continue;
            }

            Log.Refused(_logger, client.Peer.Pid, hello is null ? "its first message is not a hello" : "unknown or expired launch token, or not the process of that launch");
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
