using System;

namespace IpcChannel.Transport;

/// <summary>One end of a channel (a sender or a receiver); owns exactly one OS handle.</summary>
internal abstract class TransportChannelEnd : IDisposable
{
    /// <summary>Whether <see cref="Dispose"/> has run (or the end was moved into a message).</summary>
    public abstract bool IsDisposed { get; }

    /// <summary>Closes the OS handle. Idempotent.</summary>
    public abstract void Dispose();
}
