using System;

namespace IpcChannel;

/// <summary>
/// A message could not be serialized, or a received message was malformed: bytes that do not decode as the
/// expected type, a handle index out of range, a handle count that does not match, or a frame that breaks
/// the wire format.
/// </summary>
/// <remarks>
/// When raised by a receive, the offending message has been consumed, every OS handle it carried is closed,
/// and the channel remains usable for the next message.
/// </remarks>
public class IpcSerializationException : IpcException
{
    /// <summary>Creates the exception with a default message.</summary>
    public IpcSerializationException()
        : base("The IPC message could not be serialized or deserialized.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was wrong with the message.</param>
    public IpcSerializationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What was wrong with the message.</param>
    /// <param name="innerException">The serializer's exception.</param>
    public IpcSerializationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
