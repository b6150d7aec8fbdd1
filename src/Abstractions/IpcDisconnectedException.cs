using System;

namespace IpcChannel;

/// <summary>
/// The other side of the channel is gone: on receive, every sender was closed (or its process died) and
/// every message sent before that has been delivered; on send, every receiver was closed.
/// </summary>
/// <remarks>A disconnected channel stays disconnected: every later call reports it again.</remarks>
public class IpcDisconnectedException : IpcException
{
    /// <summary>Creates the exception with a default message.</summary>
    public IpcDisconnectedException()
        : base("The IPC channel is disconnected: the other side has closed it.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was being done when the disconnection was seen.</param>
    public IpcDisconnectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What was being done when the disconnection was seen.</param>
    /// <param name="innerException">The cause.</param>
    public IpcDisconnectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for the OS error that revealed the disconnection.</summary>
    /// <param name="message">What was being done.</param>
    /// <param name="errno">The OS error (for example <c>EPIPE</c> or <c>ECONNRESET</c>).</param>
    public IpcDisconnectedException(string message, int errno)
        : base(message, errno)
    {
    }
}
