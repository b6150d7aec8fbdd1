using System;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.Linux;

/// <summary>The sending end: one SOCK_SEQPACKET socket. Clones are duplicated descriptors of the same socket.</summary>
internal sealed class LinuxSender : TransportSender
{
    private readonly SafeFdHandle _socket;

    /// <summary>Serializes asynchronous waits for writability (only taken when the socket buffer is full).</summary>
    private SemaphoreSlim? _asyncGate;

    private EpollEngine.Registration? _registration;
    private int _disposed;

    /// <summary>
    /// Whether the socket is known to be an AF_UNIX SOCK_SEQPACKET socket: true for sockets this process made,
    /// false for one received from a peer until its first send checks it (a sender that is only passed on is
    /// never checked: checking costs two system calls per descriptor, and the process that uses it checks it).
    /// </summary>
    private volatile bool _verified;

    /// <summary>Takes ownership of a connected socket.</summary>
    /// <param name="socket">The socket.</param>
    /// <param name="verified">False when the socket came from a peer and must be checked before its first use.</param>
    public LinuxSender(SafeFdHandle socket, bool verified = true)
    {
        _socket = socket;
        _verified = verified;
    }

    /// <summary>The socket.</summary>
    public SafeFdHandle Handle => _socket;

    /// <inheritdoc/>
    public override bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc/>
    public override void Send(ReadOnlySpan<byte> payload, ReadOnlySpan<TransportChannelEnd> channels, ReadOnlySpan<TransportSharedMemory> regions)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Verify();
        int result = Frames.Send(_socket, payload, channels, regions, dontWait: false);
        if (result != 0)
        {
            throw Errors.ForErrno(result, "sendmsg on an IPC channel");
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
        try
        {
            Verify();
        }
        catch (IpcException e)
        {
            return ValueTask.FromException(e);
        }

        int result = Frames.Send(_socket, payload.Span, channels.Span, regions.Span, dontWait: true);
        if (result == 0)
        {
            return ValueTask.CompletedTask;
        }

        if (result != Interop.Errno.EAGAIN)
        {
            return ValueTask.FromException(Errors.ForErrno(result, "sendmsg on an IPC channel"));
        }

        return SendSlowAsync(payload, channels, regions, cancellationToken);
    }

    private async ValueTask SendSlowAsync(
        ReadOnlyMemory<byte> payload,
        ReadOnlyMemory<TransportChannelEnd> channels,
        ReadOnlyMemory<TransportSharedMemory> regions,
        CancellationToken cancellationToken)
    {
        SemaphoreSlim gate = LazyInitializer.EnsureInitialized(ref _asyncGate, static () => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                ObjectDisposedException.ThrowIf(IsDisposed, this);
                int result = Frames.Send(_socket, payload.Span, channels.Span, regions.Span, dontWait: true);
                if (result == 0)
                {
                    return;
                }

                if (result != Interop.Errno.EAGAIN)
                {
                    throw Errors.ForErrno(result, "sendmsg on an IPC channel");
                }

                EpollEngine.Registration registration = GetRegistration();
                await registration.WaitAsync(Interop.EPOLLOUT, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private EpollEngine.Registration GetRegistration()
    {
        EpollEngine.Registration? registration = Volatile.Read(ref _registration);
        if (registration is not null)
        {
            return registration;
        }

        registration = EpollEngine.Instance.Register(_socket);
        EpollEngine.Registration? existing = Interlocked.CompareExchange(ref _registration, registration, null);
        if (existing is not null)
        {
            registration.Dispose();
            return existing;
        }

        if (IsDisposed)
        {
            registration.Dispose();
            throw new ObjectDisposedException(nameof(LinuxSender));
        }

        return registration;
    }

    /// <inheritdoc/>
    public override TransportSender Clone()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new LinuxSender(Duplicate(_socket), _verified);
    }

    private void Verify()
    {
        if (!_verified)
        {
            Frames.CheckIsChannelSocket(_socket, received: false);
            _verified = true;
        }
    }

    /// <summary>Duplicates a descriptor, close-on-exec.</summary>
    /// <param name="fd">The descriptor.</param>
    /// <returns>The new descriptor's owner.</returns>
    public static SafeFdHandle Duplicate(SafeFdHandle fd)
    {
        var copy = new SafeFdHandle();
        int result = Interop.Fcntl(fd, Interop.F_DUPFD_CLOEXEC, 0);
        if (result < 0)
        {
            IpcException error = Errors.Last("fcntl(F_DUPFD_CLOEXEC)");
            copy.Dispose();
            throw error;
        }

        copy.SetFd(result);
        return copy;
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
