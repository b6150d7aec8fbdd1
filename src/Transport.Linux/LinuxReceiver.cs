using System;
using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.Linux;

/// <summary>The receiving end: one SOCK_SEQPACKET socket.</summary>
internal sealed class LinuxReceiver : TransportReceiver
{
    private readonly SafeFdHandle _socket;
    private EpollEngine.Registration? _registration;

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
    public override ReceiveStatus TryReceive(IBufferWriter<byte> payload, out ReceivedHandles? handles) =>
        ReceiveOnce(payload, dontWait: true, out handles);

    /// <inheritdoc/>
    public override ReceiveStatus Receive(TimeSpan timeout, IBufferWriter<byte> payload, out ReceivedHandles? handles)
    {
        int milliseconds = Errors.ToPollTimeout(timeout);
        if (milliseconds < 0)
        {
            // Block in the kernel: one recvmsg per message on the hot path.
            while (true)
            {
                ReceiveStatus status = ReceiveOnce(payload, dontWait: false, out handles);
                if (status != ReceiveStatus.Empty)
                {
                    return status;
                }

                // The descriptor was made non-blocking by someone else; wait for readiness instead.
                WaitReadable(-1);
            }
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(milliseconds * (Stopwatch.Frequency / 1000.0));
        while (true)
        {
            ReceiveStatus status = ReceiveOnce(payload, dontWait: true, out handles);
            if (status != ReceiveStatus.Empty)
            {
                return status;
            }

            long remainingTicks = deadline - Stopwatch.GetTimestamp();
            if (remainingTicks <= 0)
            {
                return ReceiveStatus.Empty;
            }

            int remaining = (int)Math.Ceiling(remainingTicks * 1000.0 / Stopwatch.Frequency);
            if (!WaitReadable(remaining))
            {
                status = ReceiveOnce(payload, dontWait: true, out handles);
                return status;
            }
        }
    }

    /// <inheritdoc/>
    public override ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> ReceiveAsync(IBufferWriter<byte> payload, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<(ReceiveStatus, ReceivedHandles?)>(cancellationToken);
        }

        ReceiveStatus status = ReceiveOnce(payload, dontWait: true, out ReceivedHandles? handles);
        return status != ReceiveStatus.Empty
            ? new ValueTask<(ReceiveStatus, ReceivedHandles?)>((status, handles))
            : ReceiveSlowAsync(payload, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> ReceiveSlowAsync(IBufferWriter<byte> payload, CancellationToken cancellationToken)
    {
        EpollEngine.Registration registration = GetRegistration();
        while (true)
        {
            await registration.WaitAsync(Interop.EPOLLIN, cancellationToken).ConfigureAwait(false);
            ReceiveStatus status = ReceiveOnce(payload, dontWait: true, out ReceivedHandles? handles);
            if (status != ReceiveStatus.Empty)
            {
                return (status, handles);
            }
        }
    }

    /// <summary>Waits for this socket to become readable (used by the blocking forms).</summary>
    /// <param name="milliseconds">Timeout, -1 for none.</param>
    /// <returns>Whether it became readable (or hung up) in time.</returns>
    internal unsafe bool WaitReadable(int milliseconds)
    {
        bool referenced = false;
        _socket.DangerousAddRef(ref referenced);
        try
        {
            Interop.PollFd pollFd = new() { fd = (int)_socket.DangerousGetHandle(), events = Interop.POLLIN };
            while (true)
            {
                int result = Interop.Poll(&pollFd, 1, milliseconds);
                if (result >= 0)
                {
                    return result > 0;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Errno.EINTR)
                {
                    throw Errors.ForErrno(errno, "poll on an IPC channel");
                }
            }
        }
        finally
        {
            if (referenced)
            {
                _socket.DangerousRelease();
            }
        }
    }

    private ReceiveStatus ReceiveOnce(IBufferWriter<byte> payload, bool dontWait, out ReceivedHandles? handles)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(payload);
        handles = null;
        if (_closed)
        {
            return ReceiveStatus.Closed;
        }

        ReceiveStatus status = Frames.Receive(_socket, payload, ref _sizeHint, MaxMessageSize, dontWait, out handles);
        if (status == ReceiveStatus.Closed)
        {
            _closed = true;
        }

        return status;
    }

    private EpollEngine.Registration GetRegistration()
    {
        EpollEngine.Registration? registration = _registration;
        if (registration is null)
        {
            registration = EpollEngine.Instance.Register(_socket);
            _registration = registration;
        }

        return registration;
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _registration, null)?.Dispose();
        _socket.Dispose();
    }
}
