using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.MacOS;

/// <summary>The receiving end: one receive right whose no-senders notification is armed.</summary>
/// <remarks>
/// The kernel queues the no-senders notification behind every message sent before the last send right went away,
/// so "closed" is reported only after the queue is drained; it is then remembered (closing is final).
/// </remarks>
[SupportedOSPlatform("macos")]
internal sealed class MacReceiver : TransportReceiver
{
    private readonly SafeMachPortHandle _port;

    /// <summary>Orders the creation of <see cref="_registration"/> against <see cref="Dispose"/> and <see cref="MarkMoved"/>.</summary>
    private readonly object _gate = new();
    private MachDispatcher.Registration? _registration;

    /// <summary>Set once the no-senders notification was received; closing is final.</summary>
    private bool _closed;

    private int _disposed;

    /// <summary>Takes ownership of a receive right.</summary>
    /// <param name="port">The receive right.</param>
    /// <param name="noSendersArmed">
    /// Whether the caller just armed its no-senders notification; otherwise (a right that arrived from another
    /// process) it is checked and armed if the sender did not.
    /// </param>
    public MacReceiver(SafeMachPortHandle port, bool noSendersArmed)
    {
        _port = port;
        if (!noSendersArmed)
        {
            try
            {
                MachPorts.EnsureNoSendersRequested(port);
            }
            catch
            {
                port.Dispose();
                throw;
            }
        }
    }

    /// <summary>The receive right.</summary>
    public SafeMachPortHandle Handle => _port;

    /// <inheritdoc/>
    public override bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc/>
    protected override ReceiveStatus ReceiveNow(IBufferWriter<byte> payload, out ReceivedHandles? handles) =>
        ReceiveOnce(0, payload, out handles);

    /// <inheritdoc/>
    protected override ReceiveStatus ReceiveWithin(TimeSpan timeout, IBufferWriter<byte> payload, out ReceivedHandles? handles) =>
        ReceiveOnce(Errors.ToMilliseconds(timeout), payload, out handles);

    /// <inheritdoc/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> ReceiveWhenReadyAsync(IBufferWriter<byte> payload, CancellationToken cancellationToken)
    {
        MachDispatcher.Registration registration = GetRegistration();
        while (true)
        {
            await registration.WaitAsync(cancellationToken).ConfigureAwait(false);
            ReceiveStatus status = ReceiveOnce(0, payload, out ReceivedHandles? handles);
            if (status != ReceiveStatus.Empty)
            {
                return (status, handles);
            }
        }
    }

    private MachDispatcher.Registration GetRegistration()
    {
        lock (_gate)
        {
            // Checked under the gate, so a registration made here is always one that Dispose (or MarkMoved) disposes.
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _registration ??= MachDispatcher.Instance.Register(_port);
        }
    }

    private ReceiveStatus ReceiveOnce(long milliseconds, IBufferWriter<byte> payload, out ReceivedHandles? handles)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(payload);
        handles = null;
        if (_closed)
        {
            return ReceiveStatus.Closed;
        }

        int limit = MaxMessageSize;
        MachInboundResult result = MachInbound.Receive(_port, milliseconds, MachMessageKind.Data, _ => limit, payload);
        if (result.Status == ReceiveStatus.Closed)
        {
            _closed = true;
        }

        handles = result.Handles;
        return result.Status;
    }

    /// <summary>Records that the receive right was moved into a sent message: nothing is left to release.</summary>
    public void MarkMoved()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        TakeRegistration()?.Dispose();
        _port.MarkMoved();
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        TakeRegistration()?.Dispose();
        _port.Dispose();
    }

    private MachDispatcher.Registration? TakeRegistration()
    {
        lock (_gate)
        {
            MachDispatcher.Registration? registration = _registration;
            _registration = null;
            return registration;
        }
    }
}
