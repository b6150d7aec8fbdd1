using System;
using MessagePack;
using MessagePack.Formatters;

namespace IpcChannel.Serialization;

/// <summary>
/// Resolves the formatters of every IpcChannel type that can travel inside a message, and a faster
/// <c>byte[]</c> formatter (blobs are the common large payload).
/// </summary>
internal sealed class IpcHandleResolver : IFormatterResolver
{
    /// <summary>The resolver (stateless).</summary>
    public static readonly IpcHandleResolver Instance = new();

    private IpcHandleResolver()
    {
    }

    /// <inheritdoc/>
    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T>? Formatter = (IMessagePackFormatter<T>?)Create(typeof(T));
    }

    private static object? Create(Type type)
    {
        if (type == typeof(byte[]))
        {
            return ByteArrayFormatter.Instance;
        }

        if (type == typeof(IpcBytesSender))
        {
            return new IpcBytesSenderFormatter();
        }

        if (type == typeof(IpcBytesReceiver))
        {
            return new IpcBytesReceiverFormatter();
        }

        if (type == typeof(OpaqueIpcSender))
        {
            return new OpaqueIpcSenderFormatter();
        }

        if (type == typeof(OpaqueIpcReceiver))
        {
            return new OpaqueIpcReceiverFormatter();
        }

        if (type == typeof(IpcSharedMemory))
        {
            return new IpcSharedMemoryFormatter();
        }

        if (type.IsGenericType)
        {
            Type definition = type.GetGenericTypeDefinition();
            if (definition == typeof(IpcSender<>))
            {
                return Activator.CreateInstance(typeof(IpcSenderFormatter<>).MakeGenericType(type.GenericTypeArguments));
            }

            if (definition == typeof(IpcReceiver<>))
            {
                return Activator.CreateInstance(typeof(IpcReceiverFormatter<>).MakeGenericType(type.GenericTypeArguments));
            }
        }

        return null;
    }
}
