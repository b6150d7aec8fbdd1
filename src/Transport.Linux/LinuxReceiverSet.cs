using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.Linux;

/// <summary>
/// A set of receivers on one epoll instance (level-triggered). Each select drains at most
/// <see cref="MaxMessagesPerReceiverPerSelect"/> messages per ready receiver, so a busy channel cannot
/// starve the others (the kernel rotates level-triggered ready entries between waits).
/// </summary>
/// <remarks>
/// The epoll set also holds an eventfd (<see cref="WakeUpFd"/>) that <see cref="Dispose"/> signals, so disposing
/// releases a select blocked on another thread; the members are touched only under <see cref="_gate"/>, so a
/// select never receives from a receiver that Dispose is closing.
/// </remarks>
internal sealed class LinuxReceiverSet : TransportReceiverSet
{
    /// <summary>The fairness bound: messages taken from one receiver in one select.</summary>
    public const int MaxMessagesPerReceiverPerSelect = 16;

    private const int MaxEventsPerWait = 64;

    /// <summary>The epoll data of <see cref="_wakeUp"/>; receiver ids count up from 0 and never reach it.</summary>
    private const ulong WakeUpId = ulong.MaxValue;

    private readonly SafeFdHandle _epoll;

    /// <summary>Signalled by <see cref="Dispose"/> to release a select in progress.</summary>
    private readonly WakeUpFd _wakeUp;

    /// <summary>Guards the members, the registration and <see cref="_disposed"/> against a concurrent <see cref="Dispose"/>.</summary>
    private readonly object _gate = new();
    private readonly Dictionary<ulong, LinuxReceiver> _members = new();
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private EpollEngine.Registration? _registration;

    /// <summary>An error met after some events were already collected; thrown by the next select.</summary>
    private Exception? _pendingError;

    private ulong _nextId;
    private bool _disposed;

    /// <summary>Creates an empty set.</summary>
    public unsafe LinuxReceiverSet()
    {
        _epoll = new SafeFdHandle();
        int fd = Interop.EpollCreate1(Interop.EPOLL_CLOEXEC);
        if (fd < 0)
        {
            IpcException error = Errors.Last("epoll_create1");
            _epoll.Dispose();
            throw error;
        }

        _epoll.SetFd(fd);
        try
        {
            _wakeUp = WakeUpFd.Create();
            byte* ev = stackalloc byte[Interop.EpollEventSize];
            Interop.WriteEpollEvent(ev, Interop.EPOLLIN, WakeUpId);
            if (Interop.EpollCtl(_epoll, Interop.EPOLL_CTL_ADD, _wakeUp.Handle, ev) != 0)
            {
                throw Errors.Last("epoll_ctl(EPOLL_CTL_ADD) of a receiver set's wake-up");
            }
        }
        catch
        {
            _wakeUp?.Dispose();
            _epoll.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override int Count => _members.Count;

    /// <inheritdoc/>
    public override ulong Add(TransportReceiver receiver)
    {
        lock (_gate)
        {
            return AddLocked(receiver);
        }
    }

    private unsafe ulong AddLocked(TransportReceiver receiver)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (receiver is not LinuxReceiver linux)
        {
            throw new ArgumentException($"A {receiver.GetType().Name} cannot join a Linux receiver set.", nameof(receiver));
        }

        ObjectDisposedException.ThrowIf(linux.IsDisposed, linux);
        ulong id = _nextId;
        byte* ev = stackalloc byte[Interop.EpollEventSize];
        Interop.WriteEpollEvent(ev, Interop.EPOLLIN | Interop.EPOLLRDHUP, id);
        if (Interop.EpollCtl(_epoll, Interop.EPOLL_CTL_ADD, linux.Handle, ev) != 0)
        {
            throw Errors.Last("epoll_ctl(EPOLL_CTL_ADD) on a receiver set");
        }

        _nextId++;
        _members.Add(id, linux);
        return id;
    }

    /// <inheritdoc/>
    public override TransportReceiver? Remove(ulong id)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return RemoveLocked(id);
        }
    }

    private unsafe LinuxReceiver? RemoveLocked(ulong id)
    {
        if (!_members.Remove(id, out LinuxReceiver? receiver))
        {
            return null;
        }

        _ = Interop.EpollCtl(_epoll, Interop.EPOLL_CTL_DEL, receiver.Handle, null);
        return receiver;
    }

    /// <inheritdoc/>
    public override unsafe bool Select(TimeSpan timeout, List<TransportSelection> results)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowPendingError();
        int milliseconds = Errors.ToPollTimeout(timeout);
        long deadline = milliseconds < 0 ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(milliseconds * (Stopwatch.Frequency / 1000.0));
        byte* events = stackalloc byte[MaxEventsPerWait * Interop.EpollEventSize];
        while (true)
        {
            int wait = milliseconds;
            if (milliseconds > 0)
            {
                long ticks = deadline - Stopwatch.GetTimestamp();
                wait = ticks <= 0 ? 0 : (int)Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency);
            }

            int count = Wait(events, wait, out int errno);
            if (count < 0)
            {
                if (errno == Interop.Errno.EINTR)
                {
                    continue;
                }

                throw Errors.ForErrno(errno, "epoll_wait on a receiver set");
            }

            int before = results.Count;
            lock (_gate)
            {
                // Disposed while waiting (the wake-up fired): the members are closed, report nothing.
                ObjectDisposedException.ThrowIf(_disposed, this);
                for (int i = 0; i < count; i++)
                {
                    (_, ulong id) = Interop.ReadEpollEvent(events, i);
                    if (!Drain(id, results))
                    {
                        break;
                    }
                }
            }

            if (results.Count > before)
            {
                return true;
            }

            if (_pendingError is not null)
            {
                ThrowPendingError();
            }

            if (wait == 0)
            {
                return false;
            }
        }
    }

    /// <summary>One epoll_wait, holding the wake-up open for its whole length.</summary>
    /// <remarks>
    /// Closing an eventfd removes it from the epoll set, and with it a readiness that a woken waiter has not yet
    /// collected: the waiter would go back to sleep. So Dispose's close of the wake-up is deferred (SafeHandle
    /// reference) until the waiter has left epoll_wait.
    /// </remarks>
    private unsafe int Wait(byte* events, int milliseconds, out int errno)
    {
        bool referenced = false;
        try
        {
            _wakeUp.Handle.DangerousAddRef(ref referenced);
            int count = Interop.EpollWait(_epoll, events, MaxEventsPerWait, milliseconds);
            errno = count < 0 ? Marshal.GetLastPInvokeError() : 0;
            return count;
        }
        finally
        {
            if (referenced)
            {
                _wakeUp.Handle.DangerousRelease();
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask SelectAsync(List<TransportSelection> results, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Select(TimeSpan.Zero, results))
            {
                return;
            }

            EpollEngine.Registration registration;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                registration = _registration ??= EpollEngine.Instance.Register(_epoll);
            }

            await registration.WaitAsync(Interop.EPOLLIN, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes up to the fairness bound of messages from one receiver.</summary>
    /// <returns>False when an error stopped the select (kept for the next call).</returns>
    private bool Drain(ulong id, List<TransportSelection> results)
    {
        if (!_members.TryGetValue(id, out LinuxReceiver? receiver))
        {
            return true;
        }

        for (int taken = 0; taken < MaxMessagesPerReceiverPerSelect; taken++)
        {
            _buffer.ResetWrittenCount();
            ReceiveStatus status;
            ReceivedHandles? handles;
            try
            {
                status = receiver.TryReceive(_buffer, out handles);
            }
            catch (IpcException error)
            {
                // Keep what was already collected; report the error now if nothing was, else next time.
                _pendingError = error;
                return false;
            }

            switch (status)
            {
                case ReceiveStatus.Message:
                    results.Add(new TransportSelection(id, Closed: false, _buffer.WrittenSpan.ToArray(), handles));
                    break;
                case ReceiveStatus.Closed:
                    RemoveLocked(id);
                    receiver.Dispose();
                    results.Add(new TransportSelection(id, Closed: true, [], null));
                    return true;
                default:
                    return true;
            }
        }

        return true;
    }

    private void ThrowPendingError()
    {
        Exception? error = _pendingError;
        if (error is not null)
        {
            _pendingError = null;
            throw error;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Releases a select blocked on another thread (it throws <see cref="ObjectDisposedException"/>) and fails a
    /// pending asynchronous one; the epoll descriptor is closed once no thread waits on it any more.
    /// </remarks>
    public override void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _registration?.Dispose();
            _registration = null;
            _wakeUp.Signal();
            foreach (LinuxReceiver receiver in _members.Values)
            {
                receiver.Dispose();
            }

            _members.Clear();
        }

        _wakeUp.Dispose();
        _epoll.Dispose();
    }
}
