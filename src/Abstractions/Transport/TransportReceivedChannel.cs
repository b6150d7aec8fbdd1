using System;

namespace IpcChannel.Transport;

/// <summary>
/// A channel end that arrived inside a message. Its direction is decided by the one who claims it
/// (the typed layer knows from the message's type); it can be converted once.
/// </summary>
internal abstract class TransportReceivedChannel : IDisposable
{
    /// <summary>Converts into a sender; this object no longer owns the handle.</summary>
    /// <returns>The sender.</returns>
    /// <exception cref="IpcSerializationException">The handle cannot be a sender (for example a receive right on macOS).</exception>
    public abstract TransportSender ToSender();

    /// <summary>Converts into a receiver; this object no longer owns the handle.</summary>
    /// <returns>The receiver.</returns>
    /// <exception cref="IpcSerializationException">The handle cannot be a receiver.</exception>
    public abstract TransportReceiver ToReceiver();

    /// <summary>Closes the handle unless it was converted.</summary>
    public abstract void Dispose();
}
