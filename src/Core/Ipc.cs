using System;

namespace IpcChannel;

/// <summary>Creates IPC channels.</summary>
public static class Ipc
{
    /// <summary>
    /// The first-message deadline of <see cref="IpcServer{T}"/> and <see cref="IpcOneShotServer{T}"/> when none is
    /// given: 5 seconds. A client that connects and sends nothing for this long is closed.
    /// </summary>
    public static readonly TimeSpan DefaultFirstMessageTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Checks a first-message deadline: positive, or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>.</summary>
    internal static TimeSpan CheckFirstMessageTimeout(TimeSpan? timeout, string parameterName)
    {
        TimeSpan value = timeout ?? DefaultFirstMessageTimeout;
        if (value != System.Threading.Timeout.InfiniteTimeSpan && (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(parameterName, value, "A first-message deadline must be positive (at most int.MaxValue ms) or Timeout.InfiniteTimeSpan.");
        }

        return value;
    }

    /// <summary>Creates a typed channel; either end can be sent to another process inside a message.</summary>
    /// <typeparam name="T">The message type (a public record or class; contractless MessagePack by default).</typeparam>
    /// <param name="options">Serialization options; <see cref="IpcSerializerOptions.Default"/> when null.</param>
    /// <returns>The sender and the receiver.</returns>
    /// <exception cref="IpcException">The OS refused (for example, out of file descriptors).</exception>
    /// <exception cref="PlatformNotSupportedException">The OS has no IpcChannel transport.</exception>
    public static (IpcSender<T> Sender, IpcReceiver<T> Receiver) Channel<T>(IpcSerializerOptions? options = null)
    {
        options ??= IpcSerializerOptions.Default;
        (Transport.TransportSender sender, Transport.TransportReceiver receiver) = IpcTransports.Current.CreateChannel();
        return (new IpcSender<T>(sender, options), new IpcReceiver<T>(receiver, options));
    }

    /// <summary>Creates a raw bytes channel.</summary>
    /// <returns>The sender and the receiver.</returns>
    /// <exception cref="IpcException">The OS refused.</exception>
    /// <exception cref="PlatformNotSupportedException">The OS has no IpcChannel transport.</exception>
    public static (IpcBytesSender Sender, IpcBytesReceiver Receiver) BytesChannel()
    {
        (Transport.TransportSender sender, Transport.TransportReceiver receiver) = IpcTransports.Current.CreateChannel();
        return (new IpcBytesSender(sender), new IpcBytesReceiver(receiver, IpcSerializerOptions.Default));
    }
}
