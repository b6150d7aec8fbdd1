using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace IpcChannel.Transport.Linux;

/// <summary>
/// The process-wide readiness engine: one epoll instance and one thread that turns "descriptor ready"
/// into completed <see cref="ValueTask"/>s. No thread per receiver, no polling.
/// </summary>
/// <remarks>
/// Every wait arms a one-shot (EPOLLONESHOT) interest for one descriptor; when it fires the engine
/// completes the waiter, whose continuation runs on the thread pool and does the actual non-blocking I/O.
/// A cancelled wait consumed nothing, so cancellation never loses data. A failure of the loop itself is
/// fatal (<see cref="Environment.FailFast(string)"/>): silently stalling every async IPC call is worse.
/// </remarks>
internal sealed unsafe class EpollEngine
{
    private const int MaxEventsPerWait = 128;

    private static readonly Lazy<EpollEngine> s_instance = new(() => new EpollEngine(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The registrations by id (the id is the epoll data, so a stale event finds nothing).</summary>
    private readonly ConcurrentDictionary<ulong, Registration> _registrations = new();

    /// <summary>The epoll instance.</summary>
    private readonly SafeFdHandle _epoll;

    /// <summary>The last id handed out.</summary>
    private long _lastId;

    private EpollEngine()
    {
        _epoll = new SafeFdHandle();
        int fd = Interop.EpollCreate1(Interop.EPOLL_CLOEXEC);
        if (fd < 0)
        {
            throw Errors.Last("epoll_create1");
        }

        _epoll.SetFd(fd);
        var thread = new Thread(Loop) { IsBackground = true, Name = "IpcChannel epoll" };
        thread.UnsafeStart();
    }

    /// <summary>The engine of this process.</summary>
    public static EpollEngine Instance => s_instance.Value;

    /// <summary>Creates a registration for <paramref name="fd"/>; nothing is armed until a wait.</summary>
    /// <param name="fd">The descriptor to watch; it must outlive the registration.</param>
    /// <returns>The registration; dispose it before closing the descriptor.</returns>
    public Registration Register(SafeFdHandle fd)
    {
        var registration = new Registration(this, fd, (ulong)Interlocked.Increment(ref _lastId));
        _registrations[registration.Id] = registration;
        return registration;
    }

    private void Loop()
    {
        byte* events = stackalloc byte[MaxEventsPerWait * Interop.EpollEventSize];
        while (true)
        {
            int count = Interop.EpollWait(_epoll, events, MaxEventsPerWait, -1);
            if (count < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Errno.EINTR)
                {
                    continue;
                }

                Environment.FailFast($"IpcChannel's epoll loop failed: {Errors.ForErrno(errno, "epoll_wait").Message}");
            }

            for (int i = 0; i < count; i++)
            {
                (_, ulong id) = Interop.ReadEpollEvent(events, i);
                if (_registrations.TryGetValue(id, out Registration? registration))
                {
                    registration.Signal();
                }
            }
        }
    }

    /// <summary>
    /// One descriptor's membership in the engine, with a single reusable waiter (one wait at a time).
    /// </summary>
    internal sealed class Registration : IValueTaskSource, IDisposable
    {
        private const int Idle = 0;
        private const int Waiting = 1;
        private const int Done = 2;

        private readonly EpollEngine _engine;
        private readonly SafeFdHandle _fd;
        private ManualResetValueTaskSourceCore<bool> _core;
        private CancellationTokenRegistration _cancellation;
        private int _state;
        private bool _added;
        private bool _disposed;

        internal Registration(EpollEngine engine, SafeFdHandle fd, ulong id)
        {
            _engine = engine;
            _fd = fd;
            Id = id;
            _core.RunContinuationsAsynchronously = true;
        }

        /// <summary>The id carried in the epoll data.</summary>
        public ulong Id { get; }

        /// <summary>Waits until the descriptor reports one of <paramref name="events"/> (or an error/hang-up).</summary>
        /// <param name="events">EPOLLIN and/or EPOLLOUT.</param>
        /// <param name="cancellationToken">Cancels the wait.</param>
        /// <returns>A task completing when the descriptor is ready.</returns>
        public ValueTask WaitAsync(uint events, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled(cancellationToken);
            }

            lock (this)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_state == Waiting)
                {
                    throw new InvalidOperationException("Another asynchronous operation is already waiting on this channel end.");
                }

                _core.Reset();
                _state = Waiting;

                // Register cancellation before arming, so readiness cannot complete the wait before the
                // registration is stored (GetResult disposes it). A wake-up is only ever a hint: callers
                // retry their non-blocking operation and wait again, so a stale one-shot event is harmless.
                if (cancellationToken.CanBeCanceled)
                {
                    _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((Registration)state!).Complete(new OperationCanceledException(token)), this);
                }

                Arm(events | Interop.EPOLLONESHOT | Interop.EPOLLRDHUP);
            }

            return new ValueTask(this, _core.Version);
        }

        /// <summary>Called by the engine thread when the descriptor is ready.</summary>
        internal void Signal() => Complete(null);

        private void Complete(Exception? error)
        {
            if (Interlocked.CompareExchange(ref _state, Done, Waiting) != Waiting)
            {
                return;
            }

            if (error is null)
            {
                _core.SetResult(true);
            }
            else
            {
                _core.SetException(error);
            }
        }

        private void Arm(uint events)
        {
            byte* ev = stackalloc byte[Interop.EpollEventSize];
            Interop.WriteEpollEvent(ev, events, Id);
            int op = _added ? Interop.EPOLL_CTL_MOD : Interop.EPOLL_CTL_ADD;
            if (Interop.EpollCtl(_engine._epoll, op, _fd, ev) != 0)
            {
                IpcException error = Errors.Last("epoll_ctl");
                _cancellation.Dispose();
                _cancellation = default;
                _state = Idle;
                throw error;
            }

            _added = true;
        }

        /// <inheritdoc/>
        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        /// <inheritdoc/>
        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        /// <inheritdoc/>
        public void GetResult(short token)
        {
            _cancellation.Dispose();
            _cancellation = default;
            try
            {
                _core.GetResult(token);
            }
            finally
            {
                Volatile.Write(ref _state, Idle);
            }
        }

        /// <summary>Removes the descriptor from the engine and fails a pending wait. Call before closing it.</summary>
        public void Dispose()
        {
            lock (this)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                _engine._registrations.TryRemove(Id, out _);
                if (_added && !_fd.IsClosed)
                {
                    // Errors are irrelevant here: the descriptor is about to be closed anyway.
                    _ = Interop.EpollCtl(_engine._epoll, Interop.EPOLL_CTL_DEL, _fd, null);
                }
            }

            Complete(new ObjectDisposedException("IPC channel end", "The channel end was disposed while an asynchronous operation was waiting."));
        }
    }
}
