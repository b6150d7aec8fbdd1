using IpcChannel.Transport;

namespace IpcChannel.Serialization;

/// <summary>
/// A public object that owns a channel end and can travel inside a message. Sending moves it: once the
/// message is sent, <see cref="CompleteMove"/> closes this process's copy.
/// </summary>
internal interface IIpcChannelHandle
{
    /// <summary>The transport end to transfer; throws <see cref="System.ObjectDisposedException"/> when moved or disposed.</summary>
    TransportChannelEnd EndForTransfer { get; }

    /// <summary>Called after a successful send: this object's handle now belongs to the receiving side.</summary>
    void CompleteMove();
}
