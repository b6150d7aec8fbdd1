using System;

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
    public override TransportServer CreateServer(bool oneShot) => LinuxServer.Create(oneShot);

    /// <inheritdoc/>
    public override TransportSharedMemory CreateSharedMemory(ReadOnlySpan<byte> contents) => LinuxSharedMemory.Create(contents);

    /// <inheritdoc/>
    public override TransportSharedMemory CreateSharedMemory(byte value, int length) => LinuxSharedMemory.Create(value, length);

    /// <inheritdoc/>
    public override TransportReceiverSet CreateReceiverSet() => new LinuxReceiverSet();
}
