using System;
using System.IO;

namespace IpcChannel;

/// <summary>
/// The base of every error raised by IpcChannel: an operating-system failure (with its <see cref="Errno"/>),
/// a disconnected channel (<see cref="IpcDisconnectedException"/>) or a message that could not be
/// serialized or understood (<see cref="IpcSerializationException"/>).
/// </summary>
/// <remarks>
/// An <see cref="IpcException"/> never leaves a channel half-used: the message that failed is either
/// not sent at all or consumed whole, and every OS handle it carried is closed.
/// </remarks>
public class IpcException : IOException
{
    /// <summary>Creates an exception with a message and no OS error.</summary>
    /// <param name="message">What went wrong.</param>
    public IpcException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public IpcException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for an OS error.</summary>
    /// <param name="message">What IpcChannel was doing, followed by the OS error's text.</param>
    /// <param name="errno">The OS error number (<c>errno</c> on Unix, a <c>kern_return_t</c> on macOS).</param>
    public IpcException(string message, int errno)
        : base(message)
    {
        Errno = errno;
        HResult = errno == 0 ? HResult : unchecked((int)0x80070000 | (errno & 0xFFFF));
    }

    /// <summary>Creates an empty exception.</summary>
    public IpcException()
    {
    }

    /// <summary>
    /// The OS error number (<c>errno</c> on Linux, a Mach <c>kern_return_t</c> on macOS), or 0 when the
    /// error did not come from the operating system.
    /// </summary>
    public int Errno { get; }
}
