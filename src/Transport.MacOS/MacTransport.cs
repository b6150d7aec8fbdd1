using System;
using System.Runtime.Versioning;

namespace IpcChannel.Transport.MacOS;

/// <summary>The macOS transport: Mach ports, port sets, out-of-line memory, memory entries and launchd's bootstrap server.</summary>
[SupportedOSPlatform("macos")]
internal sealed class MacTransport : IpcTransport
{
    private static readonly Lazy<MacTransport> s_instance = new(() => new MacTransport());

    private MacTransport()
    {
        if (!OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException("The macOS transport (Mach ports) runs only on macOS.");
        }
    }

    /// <summary>The transport (stateless; one instance).</summary>
    /// <exception cref="PlatformNotSupportedException">This is not macOS.</exception>
    public static MacTransport Instance => s_instance.Value;

    /// <inheritdoc/>
    public override string Name => "macos";

    /// <inheritdoc/>
    public override (TransportSender Sender, TransportReceiver Receiver) CreateChannel()
    {
        (SafeMachPortHandle send, SafeMachPortHandle receive) = MachPorts.CreateChannel();
        return (new MacSender(send), new MacReceiver(receive, noSendersArmed: true));
    }

    /// <inheritdoc/>
    public override TransportSender Connect(string serverName) => new MacSender(MacServer.Connect(serverName));

    /// <inheritdoc/>
    public override TransportServer CreateServer(bool oneShot) => MacServer.Create(oneShot);

    /// <inheritdoc/>
    public override TransportSharedMemory CreateSharedMemory(ReadOnlySpan<byte> contents) => MacSharedMemory.Create(contents);

    /// <inheritdoc/>
    public override TransportSharedMemory CreateSharedMemory(byte value, int length) => MacSharedMemory.Create(value, length);

    /// <inheritdoc/>
    public override TransportReceiverSet CreateReceiverSet() => new MacReceiverSet();
}
