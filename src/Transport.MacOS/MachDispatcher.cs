using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace IpcChannel.Transport.MacOS;

/// <summary>
/// The process-wide readiness dispatcher: one kqueue and one thread that turns "a message is queued on this receive
/// right or port set" (<c>EVFILT_MACHPORT</c>, without receiving it) into completed <see cref="ValueTask"/>s. No
/// thread per receiver, no polling.
/// </summary>
/// <remarks>
/// Every wait arms a one-shot knote for one name; attaching it to a port that already holds a message fires at once,
/// so a message that arrives between a failed non-blocking receive and the wait is never missed. The waiter's
/// continuation runs on the thread pool and does the actual non-blocking receive; a wake-up is only a hint, so a
/// cancelled wait consumed nothing. A failure of the loop itself is fatal (<see cref="Environment.FailFast(string)"/>).
/// </remarks>
[SupportedOSPlatform("macos")]
internal sealed unsafe class MachDispatcher
{
    private const int MaxEventsPerWait = 64;

    private static readonly Lazy<MachDispatcher> s_instance = new(() => new MachDispatcher(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The registrations by id (the id is the knote's udata, so a stale event finds nothing).</summary>
    private readonly ConcurrentDictionary<ulong, Registration> _registrations = new();

    /// <summary>The kqueue.</summary>
    private readonly SafeFdHandle _kqueue;

    /// <summary>The last id handed out.</summary>
    private long _lastId;

    private MachDispatcher()
    {
        _kqueue = new SafeFdHandle();
        int fd = Interop.Kqueue();
        if (fd < 0)
        {
            IpcException error = Errors.LastErrno("kqueue");
            _kqueue.Dispose();
            throw error;
        }

        // Darwin creates every kqueue close-on-exec and close-on-fork (UF_EXCLOSE | UF_FORKCLOSE in XNU's
        // kqueue_internal), so no fcntl is needed; fcntl is variadic and cannot be P/Invoked safely on arm64 anyway.
        _kqueue.SetFd(fd);

        var thread = new Thread(Loop) { IsBackground = true, Name = "IpcChannel Mach dispatcher" };
        thread.UnsafeStart();
    }

    /// <summary>The dispatcher of this process.</summary>
    public static MachDispatcher Instance => s_instance.Value;

    /// <summary>Creates a registration for a receive right or port set; nothing is armed until a wait.</summary>
    /// <param name="port">The right to watch; it must outlive the registration.</param>
    /// <returns>The registration; dispose it before releasing the right.</returns>
    public Registration Register(SafeMachPortHandle port)
    {
        var registration = new Registration(this, port, (ulong)Interlocked.Increment(ref _lastId));
        _registrations[registration.Id] = registration;
        return registration;
    }

    private void Loop()
    {
        Interop.kevent64_s* events = stackalloc Interop.kevent64_s[MaxEventsPerWait];
        while (true)
        {
            int count = Interop.Kevent64(_kqueue, null, 0, events, MaxEventsPerWait, 0, null);
            if (count < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Errno.EINTR)
                {
                    continue;
                }

                Environment.FailFast($"IpcChannel's Mach dispatcher failed: kevent64 returned errno {errno}.");
            }

            for (int i = 0; i < count; i++)
            {
                // An error event (for example the port died) also wakes the waiter: its receive reports what happened.
                if (_registrations.TryGetValue(events[i].udata, out Registration? registration))
                {
                    registration.Signal();
                }
            }
        }
    }

    private int Change(SafeMachPortHandle port, ulong id, ushort flags)
    {
        bool referenced = false;
        port.DangerousAddRef(ref referenced);
        try
        {
            Interop.kevent64_s change = default;
            change.ident = port.DangerousGetName();
            change.filter = Interop.EVFILT_MACHPORT;
            change.flags = flags;
            change.udata = id;
            while (true)
            {
                if (Interop.Kevent64(_kqueue, &change, 1, null, 0, 0, null) == 0)
                {
                    return 0;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR)
                {
                    return errno;
                }
            }
        }
        finally
        {
            if (referenced)
            {
                port.DangerousRelease();
            }
        }
    }

    /// <summary>One right's membership in the dispatcher, with a single reusable waiter (one wait at a time).</summary>
    internal sealed class Registration : IValueTaskSource, IDisposable
    {
        private const int Idle = 0;
        private const int Waiting = 1;
        private const int Done = 2;

        private readonly MachDispatcher _dispatcher;
        private readonly SafeMachPortHandle _port;
        private readonly object _gate = new();
        private ManualResetValueTaskSourceCore<bool> _core;
        private CancellationTokenRegistration _cancellation;
        private int _state;
        private bool _disposed;

        internal Registration(MachDispatcher dispatcher, SafeMachPortHandle port, ulong id)
        {
            _dispatcher = dispatcher;
            _port = port;
            Id = id;
            _core.RunContinuationsAsynchronously = true;
        }

        /// <summary>The id carried in the knote's udata.</summary>
        public ulong Id { get; }

        /// <summary>Waits until a message (or the no-senders notification) is queued on the right.</summary>
        /// <param name="cancellationToken">Cancels the wait.</param>
        /// <returns>A task completing when the right is ready.</returns>
        public ValueTask WaitAsync(CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled(cancellationToken);
            }

            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_state == Waiting)
                {
                    throw new InvalidOperationException("Another asynchronous operation is already waiting on this channel end.");
                }

                _core.Reset();
                _state = Waiting;
                if (cancellationToken.CanBeCanceled)
                {
                    _cancellation = cancellationToken.UnsafeRegister(
                        static (state, token) => ((Registration)state!).Complete(new OperationCanceledException(token)), this);
                }

                int errno = _dispatcher.Change(_port, Id, Interop.EV_ADD | Interop.EV_ENABLE | Interop.EV_ONESHOT);
                if (errno != 0)
                {
                    _cancellation.Dispose();
                    _cancellation = default;
                    _state = Idle;
                    throw new IpcException($"kevent64(EV_ADD, EVFILT_MACHPORT) failed (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}).", errno);
                }
            }

            return new ValueTask(this, _core.Version);
        }

        /// <summary>Called by the dispatcher thread when the right is ready.</summary>
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

        /// <summary>Removes the knote and fails a pending wait. Call before releasing the right.</summary>
        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                _dispatcher._registrations.TryRemove(Id, out _);
                if (!_port.IsClosed)
                {
                    // ENOENT (the one-shot knote already fired, or none was armed) is the usual answer and harmless.
                    _ = _dispatcher.Change(_port, Id, Interop.EV_DELETE);
                }
            }

            Complete(new ObjectDisposedException("IPC channel end", "The channel end was disposed while an asynchronous operation was waiting."));
        }
    }
}
