using System;
using System.Diagnostics.CodeAnalysis;
using MessagePack;
using MessagePack.Formatters;

namespace IpcChannel.Serialization;

/// <summary>
/// Resolves the formatters of every IpcChannel type that can travel inside a message, and a faster
/// <c>byte[]</c> formatter (blobs are the common large payload).
/// </summary>
/// <remarks>
/// Ahead-of-time compiled (NativeAOT) processes: the formatter of <see cref="IpcSender{T}"/> and
/// <see cref="IpcReceiver{T}"/> is registered by the type itself the first time it is used in the process
/// (<see cref="Register{T}"/>, from their static constructors), so it exists as compiled code for every message type
/// the program creates channels of. A process that never created one of some <c>T</c> but receives one (or sends a
/// message whose field of that type is null) falls back to constructing the formatter at run time, which NativeAOT supports when <c>T</c> is a reference
/// type (shared generic code); for a value type it fails with a clear <see cref="IpcSerializationException"/>.
/// </remarks>
internal sealed class IpcHandleResolver : IFormatterResolver
{
    /// <summary>The resolver (stateless).</summary>
    public static readonly IpcHandleResolver Instance = new();

    private IpcHandleResolver()
    {
    }

    /// <inheritdoc/>
    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter ?? Resolve<T>();

    /// <summary>Registers the formatter of <typeparamref name="T"/> as statically compiled code (before any lookup of it).</summary>
    /// <typeparam name="T">An IpcChannel handle type.</typeparam>
    /// <param name="formatter">Its formatter.</param>
    internal static void Register<T>(IMessagePackFormatter<T> formatter) => Cache<T>.Formatter ??= formatter;

    // Racing threads compute equivalent (stateless) formatters; whichever is stored is as good. A type that is not
    // ours gets null, looked up again only if MessagePack asks again (its composite resolver caches the answer).
    private static IMessagePackFormatter<T>? Resolve<T>() => Cache<T>.Formatter = (IMessagePackFormatter<T>?)Create(typeof(T));

    /// <summary>One formatter per type, set once known (a single reference: read and written atomically).</summary>
    private static class Cache<T>
    {
        public static IMessagePackFormatter<T>? Formatter;
    }

    [UnconditionalSuppressMessage("AOT", "IL3050:RequiresDynamicCode", Justification =
        "Only reached for a sender or receiver type this process never created (Register runs from their static constructors); " +
        "NativeAOT then builds reference-type instantiations from shared code, and a missing value-type one is reported as an IpcSerializationException.")]
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
            Type? formatter = definition == typeof(IpcSender<>) ? typeof(IpcSenderFormatter<>)
                : definition == typeof(IpcReceiver<>) ? typeof(IpcReceiverFormatter<>)
                : null;
            if (formatter is not null)
            {
                try
                {
                    return Activator.CreateInstance(formatter.MakeGenericType(type.GenericTypeArguments));
                }
                catch (NotSupportedException e)
                {
                    throw new IpcSerializationException(
                        $"No compiled formatter for {type} in this ahead-of-time compiled process: create a channel of that type " +
                        "once at start (Ipc.Channel<...>()), which registers it, before a message carrying one (or a null one) is sent or received.", e);
                }
            }
        }

        return null;
    }
}
