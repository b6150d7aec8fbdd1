using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.Linux;

/// <summary>
/// A listening SOCK_SEQPACKET socket bound at <c>&lt;dir&gt;/s</c>, where <c>dir</c> is a fresh private
/// directory (mode 0700) under <c>$XDG_RUNTIME_DIR</c> or the temp directory. The socket's path is the name.
/// </summary>
internal sealed class LinuxServer : TransportServer
{
    private const int Backlog = 64;
    private const string SocketFileName = "s";

    private readonly bool _oneShot;
    private readonly string _directory;
    private readonly string _path;
    private readonly object _gate = new();
    private const int MaxPendingClients = 256;
    private const ulong ListenerId = 0;
    private const int ECONNABORTED = 103;

    /// <summary>Admitted clients that have not yet sent anything, by id, with when they were admitted.</summary>
    private readonly Dictionary<ulong, (SafeFdHandle Socket, PeerCredentials Peer, long AdmittedAt)> _clients = new();

    /// <summary>The ids of <see cref="_clients"/> in admission order (oldest first): eviction order.</summary>
    private readonly SortedSet<ulong> _admissionOrder = new();

    private SafeFdHandle? _listener;

    /// <summary>An epoll set of the listener and the pending clients: readable when either needs attention.</summary>
    private SafeFdHandle? _pending;

    private EpollEngine.Registration? _registration;
    private ulong _nextClientId = 1;

    /// <summary>Whether the listener is in <see cref="_pending"/> (it leaves while the pending set is full).</summary>
    private bool _listenerWatched = true;
    private bool _accepted;

    private unsafe LinuxServer(bool oneShot, string directory, SafeFdHandle listener, SafeFdHandle pending)
    {
        _oneShot = oneShot;
        _directory = directory;
        _path = Path.Combine(directory, SocketFileName);
        _listener = listener;
        _pending = pending;
    }

    /// <summary>Removes the socket file and directory if the server was never disposed.</summary>
    ~LinuxServer()
    {
        RemoveDirectory(_directory);
    }

    /// <inheritdoc/>
    public override string Name => _path;

    /// <summary>The private directory holding the socket.</summary>
    public string Directory => _directory;

    /// <summary>Creates the directory, binds and listens.</summary>
    /// <param name="oneShot">Whether the server accepts a single client.</param>
    /// <returns>The server.</returns>
    public static unsafe LinuxServer Create(bool oneShot)
    {
        string directory = CreatePrivateDirectory();
        var listener = new SafeFdHandle();
        var pending = new SafeFdHandle();
        try
        {
            int fd = Interop.Socket(Interop.AF_UNIX, Interop.SOCK_SEQPACKET | Interop.SOCK_CLOEXEC | Interop.SOCK_NONBLOCK, 0);
            if (fd < 0)
            {
                throw Errors.Last("socket(AF_UNIX, SOCK_SEQPACKET)");
            }

            listener.SetFd(fd);
            string path = Path.Combine(directory, SocketFileName);
            Span<byte> address = stackalloc byte[Interop.SockaddrUnSize];
            int length = FillAddress(address, path);
            fixed (byte* a = address)
            {
                if (Interop.Bind(listener, a, (uint)length) != 0)
                {
                    throw Errors.Last($"bind to '{path}'");
                }
            }

            if (Interop.Listen(listener, Backlog) != 0)
            {
                throw Errors.Last("listen");
            }

            int epoll = Interop.EpollCreate1(Interop.EPOLL_CLOEXEC);
            if (epoll < 0)
            {
                throw Errors.Last("epoll_create1");
            }

            pending.SetFd(epoll);
            byte* ev = stackalloc byte[Interop.EpollEventSize];
            Interop.WriteEpollEvent(ev, Interop.EPOLLIN, ListenerId);
            if (Interop.EpollCtl(pending, Interop.EPOLL_CTL_ADD, listener, ev) != 0)
            {
                throw Errors.Last("epoll_ctl on an IPC server");
            }

            return new LinuxServer(oneShot, directory, listener, pending);
        }
        catch
        {
            listener.Dispose();
            pending.Dispose();
            RemoveDirectory(directory);
            throw;
        }
    }

    /// <inheritdoc/>
    public override (TransportReceiver Receiver, PeerCredentials Peer)? Accept(TimeSpan timeout)
    {
        int milliseconds = Errors.ToPollTimeout(timeout);
        long deadline = milliseconds < 0 ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(milliseconds * (Stopwatch.Frequency / 1000.0));
        while (true)
        {
            (TransportReceiver, PeerCredentials)? client = TryAcceptOne();
            if (client is not null)
            {
                return client;
            }

            int remaining = -1;
            if (milliseconds >= 0)
            {
                long ticks = deadline - Stopwatch.GetTimestamp();
                if (ticks <= 0)
                {
                    return null;
                }

                remaining = (int)Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency);
            }

            int untilEviction = MillisecondsUntilNextEviction();
            WaitForClient(remaining < 0 ? untilEviction : untilEviction < 0 ? remaining : Math.Min(remaining, untilEviction));
        }
    }

    /// <inheritdoc/>
    public override async ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (TransportReceiver, PeerCredentials)? client = TryAcceptOne();
            if (client is not null)
            {
                return client.Value;
            }

            EpollEngine.Registration registration;
            lock (_gate)
            {
                ListenerOrThrow();
                registration = _registration ??= EpollEngine.Instance.Register(_pending!);
            }

            int untilEviction = MillisecondsUntilNextEviction();
            if (untilEviction < 0)
            {
                await registration.WaitAsync(Interop.EPOLLIN, cancellationToken).ConfigureAwait(false);
                continue;
            }

            // Silent clients are waiting: wake up when the oldest one's deadline passes, to evict it.
            using var eviction = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            eviction.CancelAfter(untilEviction);
            try
            {
                await registration.WaitAsync(Interop.EPOLLIN, eviction.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The deadline of a silent client passed: TryAcceptOne evicts it.
            }
        }
    }

    /// <summary>
    /// How long until the oldest silent client's first-message deadline passes (at least 1 ms), or -1 when none
    /// can (no deadline, or no silent client).
    /// </summary>
    private int MillisecondsUntilNextEviction()
    {
        lock (_gate)
        {
            if (FirstMessageTimeout == Timeout.InfiniteTimeSpan || _admissionOrder.Count == 0)
            {
                return -1;
            }

            long deadline = _clients[_admissionOrder.Min].AdmittedAt + FirstMessageTimeoutTicks();
            long ticks = deadline - Stopwatch.GetTimestamp();
            return ticks <= 0 ? 1 : (int)Math.Min(int.MaxValue, Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency));
        }
    }

    private long FirstMessageTimeoutTicks() => (long)(FirstMessageTimeout.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// Accepts every connection waiting in the backlog (filtering each before a byte of it is read), then
    /// returns one admitted client whose socket is readable (it sent its first message, or hung up), or null.
    /// </summary>
    private unsafe (TransportReceiver, PeerCredentials)? TryAcceptOne()
    {
        lock (_gate)
        {
            SafeFdHandle listener = ListenerOrThrow();
            EvictExpired();
            AcceptBacklog(listener);
            byte* events = stackalloc byte[16 * Interop.EpollEventSize];
            int count;
            while ((count = Interop.EpollWait(_pending!, events, 16, 0)) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR)
                {
                    throw Errors.ForErrno(errno, "epoll_wait on an IPC server");
                }
            }

            for (int i = 0; i < count; i++)
            {
                (_, ulong id) = Interop.ReadEpollEvent(events, i);
                if (id == ListenerId || !_clients.Remove(id, out (SafeFdHandle Socket, PeerCredentials Peer, long) client))
                {
                    continue;
                }

                _admissionOrder.Remove(id);
                _ = Interop.EpollCtl(_pending!, Interop.EPOLL_CTL_DEL, client.Socket, null);
                WatchListener(listener, _clients.Count < MaxPendingClients);
                if (_oneShot)
                {
                    _accepted = true;
                    CloseListener();
                }

                return (new LinuxReceiver(client.Socket), client.Peer);
            }

            return null;
        }
    }

    private unsafe void AcceptBacklog(SafeFdHandle listener)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        byte* ev = stackalloc byte[Interop.EpollEventSize];
        while (true)
        {
            if (_clients.Count >= MaxPendingClients && !TryEvictOldestSilent())
            {
                // Full of clients that keep their place (no first-message deadline) or have all sent: stop watching
                // the listener (new connections wait in the backlog) so a readable listener cannot make Accept spin;
                // watched again once a client leaves.
                WatchListener(listener, false);
                return;
            }

            SafeFdHandle client = new();
            int fd = Interop.Accept4(listener, null, null, Interop.SOCK_CLOEXEC);
            if (fd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                client.Dispose();
                if (errno is Interop.Errno.EINTR or Interop.Errno.ECONNRESET or ECONNABORTED)
                {
                    continue;
                }

                if (errno == Interop.Errno.EAGAIN)
                {
                    return;
                }

                throw Errors.ForErrno(errno, "accept4 on an IPC server");
            }

            client.SetFd(fd);
            bool admitted = false;
            try
            {
                PeerCredentials peer = ReadPeerCredentials(client);
                Func<PeerCredentials, bool>? filter = Filter;
                if (filter is not null && !filter(peer))
                {
                    // Refused before a byte of it was read; its sends now fail.
                    continue;
                }

                ulong id = _nextClientId++;
                Interop.WriteEpollEvent(ev, Interop.EPOLLIN | Interop.EPOLLRDHUP, id);
                if (Interop.EpollCtl(_pending!, Interop.EPOLL_CTL_ADD, client, ev) != 0)
                {
                    throw Errors.Last("epoll_ctl on an IPC server");
                }

                _clients.Add(id, (client, peer, Stopwatch.GetTimestamp()));
                _admissionOrder.Add(id);
                admitted = true;
            }
            finally
            {
                if (!admitted)
                {
                    client.Dispose();
                }
            }
        }
    }

    /// <summary>Closes every silent client whose first-message deadline has passed.</summary>
    private void EvictExpired()
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        if (FirstMessageTimeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        long expired = Stopwatch.GetTimestamp() - FirstMessageTimeoutTicks();
        List<ulong>? evict = null;
        foreach (ulong id in _admissionOrder)
        {
            (SafeFdHandle socket, _, long admittedAt) = _clients[id];
            if (admittedAt > expired)
            {
                break; // admission order: every later client is younger
            }

            if (!IsReadable(socket))
            {
                (evict ??= new()).Add(id);
            }
        }

        foreach (ulong id in evict ?? [])
        {
            Evict(id);
        }
    }

    /// <summary>
    /// With a first-message deadline, makes room in a full pending set by closing the oldest client that has sent
    /// nothing yet (it would be evicted first anyway), so a crowd of silent clients never keeps a new one out.
    /// </summary>
    /// <returns>Whether a client was evicted.</returns>
    private bool TryEvictOldestSilent()
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        if (FirstMessageTimeout == Timeout.InfiniteTimeSpan)
        {
            return false;
        }

        foreach (ulong id in _admissionOrder)
        {
            if (!IsReadable(_clients[id].Socket))
            {
                Evict(id);
                return true;
            }
        }

        return false;
    }

    private unsafe void Evict(ulong id)
    {
        if (_clients.Remove(id, out (SafeFdHandle Socket, PeerCredentials, long) client))
        {
            _admissionOrder.Remove(id);
            _ = Interop.EpollCtl(_pending!, Interop.EPOLL_CTL_DEL, client.Socket, null);
            client.Socket.Dispose();
        }
    }

    /// <summary>Whether a pending client has sent something (or hung up): such a client is handed out, never evicted.</summary>
    private static unsafe bool IsReadable(SafeFdHandle socket)
    {
        bool referenced = false;
        try
        {
            socket.DangerousAddRef(ref referenced);
            Interop.PollFd pollFd = new() { fd = (int)socket.DangerousGetHandle(), events = Interop.POLLIN };
            int result;
            while ((result = Interop.Poll(&pollFd, 1, 0)) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR)
                {
                    throw Errors.ForErrno(errno, "poll on an IPC server's client");
                }
            }

            return result > 0;
        }
        finally
        {
            if (referenced)
            {
                socket.DangerousRelease();
            }
        }
    }

    private unsafe void WatchListener(SafeFdHandle listener, bool watch)
    {
        if (watch == _listenerWatched)
        {
            return;
        }

        byte* ev = stackalloc byte[Interop.EpollEventSize];
        Interop.WriteEpollEvent(ev, Interop.EPOLLIN, ListenerId);
        if (Interop.EpollCtl(_pending!, watch ? Interop.EPOLL_CTL_ADD : Interop.EPOLL_CTL_DEL, listener, ev) != 0)
        {
            throw Errors.Last("epoll_ctl on an IPC server");
        }

        _listenerWatched = watch;
    }

    private SafeFdHandle ListenerOrThrow()
    {
        if (_listener is not null)
        {
            return _listener;
        }

        if (_accepted)
        {
            throw new InvalidOperationException("This one-shot server has already accepted its client.");
        }

        throw new ObjectDisposedException(nameof(LinuxServer));
    }

    private unsafe void WaitForClient(int milliseconds)
    {
        SafeFdHandle pending;
        SafeFdHandle listener;
        lock (_gate)
        {
            listener = ListenerOrThrow();
            pending = _pending!;
        }

        // Also poll the listener itself: Dispose's shutdown wakes it with POLLHUP even when the close that follows
        // removes the listener from the epoll set before this thread re-checks it.
        bool pendingReferenced = false;
        bool listenerReferenced = false;
        try
        {
            pending.DangerousAddRef(ref pendingReferenced);
            listener.DangerousAddRef(ref listenerReferenced);
            Interop.PollFd* pollFds = stackalloc Interop.PollFd[2];
            pollFds[0] = new() { fd = (int)pending.DangerousGetHandle(), events = Interop.POLLIN };
            pollFds[1] = new() { fd = (int)listener.DangerousGetHandle(), events = 0 };
            while (Interop.Poll(pollFds, 2, milliseconds) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR)
                {
                    throw Errors.ForErrno(errno, "poll on an IPC server");
                }
            }
        }
        finally
        {
            if (listenerReferenced)
            {
                listener.DangerousRelease();
            }

            if (pendingReferenced)
            {
                pending.DangerousRelease();
            }
        }
    }

    /// <summary>Reads SO_PEERCRED of a connected socket.</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The peer's credentials at connect time.</returns>
    public static unsafe PeerCredentials ReadPeerCredentials(SafeFdHandle socket)
    {
        Interop.UCred credentials;
        uint length = (uint)sizeof(Interop.UCred);
        if (Interop.GetSockOpt(socket, Interop.SOL_SOCKET, Interop.SO_PEERCRED, &credentials, &length) != 0)
        {
            throw Errors.Last("getsockopt(SO_PEERCRED)");
        }

        return new PeerCredentials(credentials.pid, credentials.uid, credentials.gid);
    }

    /// <summary>Connects to the server at <paramref name="name"/>.</summary>
    /// <param name="name">The server's name (its socket path).</param>
    /// <returns>The connected socket.</returns>
    public static unsafe SafeFdHandle Connect(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> address = stackalloc byte[Interop.SockaddrUnSize];
        int length = FillAddress(address, name);
        var socket = new SafeFdHandle();
        int fd = Interop.Socket(Interop.AF_UNIX, Interop.SOCK_SEQPACKET | Interop.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            IpcException error = Errors.Last("socket(AF_UNIX, SOCK_SEQPACKET)");
            socket.Dispose();
            throw error;
        }

        socket.SetFd(fd);
        fixed (byte* a = address)
        {
            while (Interop.Connect(socket, a, (uint)length) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Errno.EINTR)
                {
                    continue;
                }

                socket.Dispose();
                throw errno switch
                {
                    Interop.Errno.ENOENT => new IpcException($"There is no IPC server named '{name}' (ENOENT): it never existed, was disposed, or was a one-shot server that already accepted its client.", errno),
                    Interop.Errno.ECONNREFUSED => new IpcException($"The IPC server '{name}' refused the connection (ECONNREFUSED): it is no longer listening.", errno),
                    Interop.Errno.EACCES => new IpcException($"Permission denied connecting to the IPC server '{name}' (EACCES): its directory belongs to another user.", errno),
                    Interop.Errno.EPROTOTYPE => new IpcException($"'{name}' is not an IPC server socket (EPROTOTYPE).", errno),
                    _ => Errors.ForErrno(errno, $"connect to the IPC server '{name}'"),
                };
            }
        }

        return socket;
    }

    private static int FillAddress(Span<byte> address, string path)
    {
        address.Clear();
        int byteCount = Encoding.UTF8.GetByteCount(path);
        if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("An IPC server name must be a non-empty socket path.", nameof(path));
        }

        if (byteCount > Interop.SunPathLength - 1)
        {
            throw new ArgumentException($"The IPC server name '{path}' is {byteCount} bytes long; a socket path holds at most {Interop.SunPathLength - 1}.", nameof(path));
        }

        address[0] = Interop.AF_UNIX;
        Encoding.UTF8.GetBytes(path, address.Slice(2));
        return 2 + byteCount + 1;
    }

    /// <summary>Makes a fresh 0700 directory whose socket path fits <c>sun_path</c>.</summary>
    private static unsafe string CreatePrivateDirectory()
    {
        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        string[] candidates = string.IsNullOrEmpty(runtime) || !System.IO.Directory.Exists(runtime)
            ? [Path.GetTempPath(), "/tmp"]
            : [runtime, Path.GetTempPath(), "/tmp"];
        IpcException? last = null;
        foreach (string baseDirectory in candidates)
        {
            string template = Path.Combine(baseDirectory, "ipc-XXXXXX");
            if (Encoding.UTF8.GetByteCount(Path.Combine(template, SocketFileName)) > Interop.SunPathLength - 1)
            {
                continue;
            }

            byte[] bytes = new byte[Encoding.UTF8.GetByteCount(template) + 1];
            Encoding.UTF8.GetBytes(template, bytes);
            fixed (byte* t = bytes)
            {
                if (Interop.MkDTemp(t) != null)
                {
                    return Encoding.UTF8.GetString(bytes, 0, bytes.Length - 1);
                }
            }

            last = Errors.Last($"mkdtemp in '{baseDirectory}'");
        }

        throw last ?? new IpcException("No directory is available whose socket path fits in 107 bytes; set XDG_RUNTIME_DIR or TMPDIR to a shorter path.");
    }

    private static void RemoveDirectory(string directory)
    {
        // Best effort: both may already be gone; a failure leaves an empty private directory behind.
        _ = Interop.Unlink(Path.Combine(directory, SocketFileName));
        _ = Interop.RmDir(directory);
    }

    private void CloseListener()
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        if (_listener is null)
        {
            return;
        }

        _registration?.Dispose();
        _registration = null;
        RemoveDirectory(_directory);

        // A synchronous Accept on another thread may be blocked in poll on this socket, holding a reference that
        // defers the close: shutdown wakes it (POLLHUP) and it then finds the server disposed. Listening sockets
        // never travel in messages, so no other process shares this one.
        _ = Interop.Shutdown(_listener, Interop.SHUT_RDWR);
        _listener.Dispose();
        _listener = null;
        foreach ((SafeFdHandle socket, _, _) in _clients.Values)
        {
            socket.Dispose();
        }

        _clients.Clear();
        _admissionOrder.Clear();
        _pending?.Dispose();
        _pending = null;
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        lock (_gate)
        {
            CloseListener();
        }
    }
}
