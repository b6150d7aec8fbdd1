using System;
using System.Runtime.InteropServices;

namespace IpcChannel.Transport.Linux;

/// <summary>The Linux transport: AF_UNIX SOCK_SEQPACKET socketpairs, SCM_RIGHTS, sealed memfds, epoll.</summary>
internal sealed class LinuxTransport : IpcTransport
{
    private LinuxTransport()
    {
    }

    /// <summary>The transport (stateless; one instance).</summary>
    public static LinuxTransport Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "linux";

    /// <inheritdoc/>
    public override (TransportSender Sender, TransportReceiver Receiver) CreateChannel()
    {
        (SafeFdHandle sender, SafeFdHandle receiver) = Frames.CreateSocketPair();
        return (new LinuxSender(sender), new LinuxReceiver(receiver));
    }

    /// <inheritdoc/>
    public override TransportSender Connect(string serverName) => new LinuxSender(LinuxServer.Connect(serverName));

    /// <inheritdoc/>
    /// <remarks>The socket is duplicated (close-on-exec) into the transport's own handle, then checked to be an
    /// AF_UNIX SOCK_SEQPACKET socket before anything is sent on it; the given handle is disposed either way.</remarks>
    public override TransportSender AdoptConnection(SafeHandle socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var copy = new SafeFdHandle();
        bool referenced = false;
        try
        {
            socket.DangerousAddRef(ref referenced);
            int fd = Interop.Fcntl((int)socket.DangerousGetHandle(), Interop.F_DUPFD_CLOEXEC, 0);
            if (fd < 0)
            {
                throw Errors.Last("fcntl(F_DUPFD_CLOEXEC) of a connected socket");
            }

            copy.SetFd(fd);
            if (Frames.ChannelSocketProblem(copy) is { } problem)
            {
                throw new IpcException($"The descriptor handed over as a connection to an IPC server {problem}.");
            }
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        finally
        {
            if (referenced)
            {
                socket.DangerousRelease();
            }

            // Owned by this call whatever happens: the duplicate is the only descriptor kept.
            socket.Dispose();
        }

        return new LinuxSender(copy);
    }

    /// <inheritdoc/>
    public override TransportServer CreateServer(bool oneShot) => LinuxServer.Create(oneShot);

    /// <inheritdoc/>
    public override TransportSharedMemory CreateSharedMemory(ReadOnlySpan<byte> contents) => LinuxSharedMemory.Create(contents);

    /// <inheritdoc/>
    public override TransportSharedMemory CreateSharedMemory(byte value, int length) => LinuxSharedMemory.Create(value, length);

    /// <inheritdoc/>
    public override TransportReceiverSet CreateReceiverSet() => new LinuxReceiverSet();
}
