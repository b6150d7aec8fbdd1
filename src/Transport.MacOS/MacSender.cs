using System;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.MacOS;

/// <summary>The sending end: one user reference of a send right. Clones are further references of the same right.</summary>
/// <remarks>
/// A send blocks only while the receiver's queue holds 1024 unread messages. <see cref="SendAsync"/> first tries
/// without waiting; when the queue is full (or the message moves a receive right, which is never sent with a timeout)
/// the blocking send runs on the thread pool, because Mach offers no readiness for "the queue has room" that a
/// dispatcher could wait for without a notification port per destination.
/// </remarks>
[SupportedOSPlatform("macos")]
internal sealed class MacSender : TransportSender
{
    private readonly SafeMachPortHandle _port;
    private int _disposed;

    /// <summary>Takes ownership of a send right.</summary>
    /// <param name="port">The send right (or <see cref="Interop.MACH_PORT_DEAD"/> for a sender that arrived dead).</param>
    public MacSender(SafeMachPortHandle port) => _port = port;

    /// <summary>The send right.</summary>
    public SafeMachPortHandle Handle => _port;

    /// <inheritdoc/>
    public override bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc/>
    public override void Send(ReadOnlySpan<byte> payload, ReadOnlySpan<TransportChannelEnd> channels, ReadOnlySpan<TransportSharedMemory> regions)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        int result = MachOutbound.Send(_port, MachWire.DataMessageId, payload, channels, regions, dontWait: false);
        if (result != Interop.MACH_MSG_SUCCESS)
        {
            throw Errors.ForKernReturn(result, "mach_msg send on an IPC channel");
        }
    }

    /// <inheritdoc/>
    public override ValueTask SendAsync(
        ReadOnlyMemory<byte> payload,
        ReadOnlyMemory<TransportChannelEnd> channels,
        ReadOnlyMemory<TransportSharedMemory> regions,
        CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        ObjectDisposedException.ThrowIf(IsDisposed, this);
        bool movesReceivers = false;
        foreach (TransportChannelEnd channel in channels.Span)
        {
            movesReceivers |= channel is MacReceiver;
        }

        if (!movesReceivers)
        {
            int result = MachOutbound.Send(_port, MachWire.DataMessageId, payload.Span, channels.Span, regions.Span, dontWait: true);
            if (result == Interop.MACH_MSG_SUCCESS)
            {
                return ValueTask.CompletedTask;
            }

            if (result != Interop.MACH_SEND_TIMED_OUT)
            {
                return ValueTask.FromException(Errors.ForKernReturn(result, "mach_msg send on an IPC channel"));
            }
        }

        // The queue is full (or the send must block): wait for room on a pool thread. Once it has started, the send
        // completes; cancelling before it starts sends nothing.
        return new ValueTask(Task.Factory.StartNew(
            static state =>
            {
                var (sender, data, ends, shared) = ((MacSender, ReadOnlyMemory<byte>, ReadOnlyMemory<TransportChannelEnd>, ReadOnlyMemory<TransportSharedMemory>))state!;
                sender.Send(data.Span, ends.Span, shared.Span);
            },
            (this, payload, channels, regions),
            cancellationToken,
            TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default));
    }

    /// <inheritdoc/>
    public override TransportSender Clone()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new MacSender(MachPorts.AddSendReference(_port));
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _port.Dispose();
    }
}
