using System;
using System.Runtime.Versioning;

namespace IpcChannel.Transport.MacOS;

/// <summary>
/// A right that arrived in a message: a send right becomes a sender, a receive right a receiver. Unlike a Linux
/// socket, a Mach right has one direction, so the other conversion is refused (and releases the right).
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed class MacReceivedChannel : TransportReceivedChannel
{
    private SafeMachPortHandle? _right;

    /// <summary>Takes ownership of a received right.</summary>
    /// <param name="right">The right.</param>
    public MacReceivedChannel(SafeMachPortHandle right) => _right = right;

    /// <inheritdoc/>
    public override TransportSender ToSender()
    {
        SafeMachPortHandle right = Take();
        if (right.Right != MachPortRight.Send)
        {
            right.Dispose();
            throw new IpcSerializationException("The message holds a receiver where a sender was expected (a Mach receive right cannot become a sender).");
        }

        return new MacSender(right);
    }

    /// <inheritdoc/>
    public override TransportReceiver ToReceiver()
    {
        SafeMachPortHandle right = Take();
        if (right.Right != MachPortRight.Receive)
        {
            right.Dispose();
            throw new IpcSerializationException("The message holds a sender where a receiver was expected (a Mach send right cannot become a receiver).");
        }

        return new MacReceiver(right, noSendersArmed: false);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _right?.Dispose();
        _right = null;
    }

    private SafeMachPortHandle Take()
    {
        SafeMachPortHandle right = _right ?? throw new ObjectDisposedException(nameof(MacReceivedChannel), "This received channel was already converted or closed.");
        _right = null;
        return right;
    }
}
