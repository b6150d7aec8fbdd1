using System;
using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.Linux;

/// <summary>The receiving end: one SOCK_SEQPACKET socket.</summary>
/// <remarks>
/// Every wait polls the socket together with an eventfd (<see cref="WakeUpFd"/>, made on the first blocking wait)
/// that <see cref="Dispose"/> signals, so disposing releases a receive blocked on another thread; the SafeHandles
/// that the waiter holds keep both descriptors open until it has left poll. Receives never block inside recvmsg:
/// each message is one datagram, taken whole by one non-blocking recvmsg once poll says it is there.
/// </remarks>
internal sealed class LinuxReceiver : TransportReceiver
{
    private readonly SafeFdHandle _socket;

    /// <summary>Orders the creation of <see cref="_wakeUp"/> and <see cref="_registration"/> against <see cref="Dispose"/>.</summary>
    private readonly object _gate = new();

    private EpollEngine.Registration? _registration;

    /// <summary>Released by <see cref="Dispose"/>; made on the first blocking wait.</summary>
    private WakeUpFd? _wakeUp;

    /// <summary>The previous payload size: how much room to ask the destination for.</summary>
    private int _sizeHint = 256;

    /// <summary>Set once end-of-file was seen; closing is final.</summary>
    private bool _closed;

    private int _disposed;

    /// <summary>Takes ownership of a connected socket.</summary>
    /// <param name="socket">The socket.</param>
    public LinuxReceiver(SafeFdHandle socket) => _socket = socket;

    /// <summary>The socket.</summary>
    public SafeFdHandle Handle => _socket;

    /// <inheritdoc/>
    public override bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc/>
    protected override ReceiveStatus ReceiveNow(IBufferWriter<byte> payload, out ReceivedHandles? handles) =>
        ReceiveOnce(payload, out handles);

    /// <inheritdoc/>
    protected override ReceiveStatus ReceiveWithin(TimeSpan timeout, IBufferWriter<byte> payload, out ReceivedHandles? handles)
    {
        int milliseconds = Errors.ToPollTimeout(timeout);
        long deadline = milliseconds < 0 ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(milliseconds * (Stopwatch.Frequency / 1000.0));
        while (true)
        {
            ReceiveStatus status = ReceiveOnce(payload, out handles);
            if (status != ReceiveStatus.Empty)
            {
                return status;
            }

            int remaining = -1;
            if (milliseconds >= 0)
            {
                long remainingTicks = deadline - Stopwatch.GetTimestamp();
                if (remainingTicks <= 0)
                {
                    return ReceiveStatus.Empty;
                }

                remaining = (int)Math.Ceiling(remainingTicks * 1000.0 / Stopwatch.Frequency);
            }

            // Readable, disposed (the next ReceiveOnce throws) or timed out (the next pass returns Empty).
            WaitReadable(remaining);
        }
    }

    /// <inheritdoc/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> ReceiveWhenReadyAsync(IBufferWriter<byte> payload, CancellationToken cancellationToken)
    {
        EpollEngine.Registration registration = GetRegistration();
        while (true)
        {
            await registration.WaitAsync(Interop.EPOLLIN, cancellationToken).ConfigureAwait(false);
            ReceiveStatus status = ReceiveOnce(payload, out ReceivedHandles? handles);
            if (status != ReceiveStatus.Empty)
            {
                return (status, handles);
            }
        }
    }

    /// <summary>Waits for this socket to become readable, or for <see cref="Dispose"/>.</summary>
    /// <param name="milliseconds">Timeout, -1 for none.</param>
    private unsafe void WaitReadable(int milliseconds)
    {
        SafeFdHandle wakeUp = GetWakeUp().Handle;
        bool socketReferenced = false;
        bool wakeUpReferenced = false;
        try
        {
            _socket.DangerousAddRef(ref socketReferenced);
            wakeUp.DangerousAddRef(ref wakeUpReferenced);
            Interop.PollFd* pollFds = stackalloc Interop.PollFd[2];
            pollFds[0] = new() { fd = (int)_socket.DangerousGetHandle(), events = Interop.POLLIN };
            pollFds[1] = new() { fd = (int)wakeUp.DangerousGetHandle(), events = Interop.POLLIN };
            while (Interop.Poll(pollFds, 2, milliseconds) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR)
                {
                    throw Errors.ForErrno(errno, "poll on an IPC channel");
                }
            }
        }
        finally
        {
            if (wakeUpReferenced)
            {
                wakeUp.DangerousRelease();
            }

            if (socketReferenced)
            {
                _socket.DangerousRelease();
            }
        }
    }

    private WakeUpFd GetWakeUp()
    {
        lock (_gate)
        {
            // Checked under the gate: a Dispose that has not seen this wake-up has not started yet.
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _wakeUp ??= WakeUpFd.Create();
        }
    }

    private ReceiveStatus ReceiveOnce(IBufferWriter<byte> payload, out ReceivedHandles? handles)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(payload);
        handles = null;
        if (_closed)
        {
            return ReceiveStatus.Closed;
        }

        ReceiveStatus status = Frames.Receive(_socket, payload, ref _sizeHint, MaxMessageSize, dontWait: true, out handles);
        if (status == ReceiveStatus.Closed)
        {
            _closed = true;
        }

        return status;
    }

    private EpollEngine.Registration GetRegistration()
    {
        lock (_gate)
        {
            // Checked under the gate, so a registration made here is always one that Dispose disposes.
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _registration ??= EpollEngine.Instance.Register(_socket);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Releases a receive blocked on another thread (it throws <see cref="ObjectDisposedException"/>, or returns a
    /// message it had already taken whole) and fails a pending asynchronous receive. The socket is closed once no
    /// thread uses it any more.
    /// </remarks>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        EpollEngine.Registration? registration;
        WakeUpFd? wakeUp;
        lock (_gate)
        {
            registration = _registration;
            wakeUp = _wakeUp;
            _registration = null;
        }

        registration?.Dispose();
        wakeUp?.Signal();
        wakeUp?.Dispose();
        _socket.Dispose();
    }
}
