using System;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Transport;
using MessagePack;

namespace IpcChannel.Serialization;

/// <summary>Serializes a value with its handles and sends it; deserializes a received payload with its handles.</summary>
internal static class MessageCodec
{
    /// <summary>Serializes <paramref name="value"/> into <paramref name="context"/> (buffer and side lists).</summary>
    public static void Serialize<T>(IpcSerializationContext context, T value)
    {
        try
        {
            MessagePackSerializer.Serialize(context.Buffer, value, context);
        }
        catch (MessagePackSerializationException e)
        {
            if (Innermost(e) is ObjectDisposedException disposed)
            {
                // A moved or disposed handle inside the value: report it as what it is.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(disposed);
            }

            throw Wrap(e, $"Could not serialize a {typeof(T).Name} for an IPC message");
        }
    }

    /// <summary>Serializes and sends; on success every handle in the value is moved, on failure none is.</summary>
    public static void Send<T>(TransportSender sender, IpcSerializerOptions options, T value)
    {
        IpcSerializationContext context = options.RentContext();
        try
        {
            Serialize(context, value);
            sender.Send(context.Buffer.WrittenSpan, context.Channels.Span, context.Regions.Span);
            context.CompleteMoves();
        }
        finally
        {
            options.ReturnContext(context);
        }
    }

    /// <summary>Serializes and sends asynchronously; same move rules as <see cref="Send{T}"/>.</summary>
    public static ValueTask SendAsync<T>(TransportSender sender, IpcSerializerOptions options, T value, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        IpcSerializationContext context = options.RentContext();
        ValueTask pending;
        try
        {
            Serialize(context, value);
            pending = sender.SendAsync(context.Buffer.WrittenMemory, context.Channels, context.Regions, cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                context.CompleteMoves();
                options.ReturnContext(context);
                return ValueTask.CompletedTask;
            }
        }
        catch
        {
            options.ReturnContext(context);
            throw;
        }

        return Awaited(pending, context, options);

        static async ValueTask Awaited(ValueTask pending, IpcSerializationContext context, IpcSerializerOptions options)
        {
            try
            {
                await pending.ConfigureAwait(false);
                context.CompleteMoves();
            }
            finally
            {
                options.ReturnContext(context);
            }
        }
    }

    /// <summary>
    /// Deserializes a received payload. On any failure, every handle of the message is closed (claimed or
    /// not) and <see cref="IpcSerializationException"/> is thrown; on success unclaimed handles are refused too.
    /// </summary>
    public static T Deserialize<T>(IpcSerializationContext context, ReadOnlyMemory<byte> payload, ReceivedHandles? handles)
    {
        context.Received = handles;
        try
        {
            T value = MessagePackSerializer.Deserialize<T>(payload, context, out int read);
            if (read != payload.Length)
            {
                throw new IpcSerializationException(
                    $"The IPC message holds {payload.Length - read} bytes after its {typeof(T).Name} value.");
            }

            if (handles is not null && !handles.AllClaimed)
            {
                throw new IpcSerializationException(
                    $"The IPC message carries {handles.ChannelCount} channel(s) and {handles.RegionCount} region(s) that its {typeof(T).Name} value does not all refer to.");
            }

            return value;
        }
        catch (Exception e) when (e is MessagePackSerializationException or IpcSerializationException or ObjectDisposedException)
        {
            context.DisposeCreated();
            if (e is IpcSerializationException ipc)
            {
                throw new IpcSerializationException($"Could not deserialize a {typeof(T).Name} from an IPC message: {ipc.Message}", ipc);
            }

            throw Wrap(e, $"Could not deserialize a {typeof(T).Name} from an IPC message");
        }
        finally
        {
            handles?.Dispose();
        }
    }

    private static Exception Innermost(Exception e)
    {
        Exception inner = e;
        while (inner is MessagePackSerializationException { InnerException: not null } mp)
        {
            inner = mp.InnerException!;
        }

        return inner;
    }

    private static IpcSerializationException Wrap(Exception e, string what)
    {
        Exception inner = Innermost(e);

        return inner is IpcSerializationException ipc
            ? new IpcSerializationException($"{what}: {ipc.Message}", e)
            : new IpcSerializationException($"{what}: {inner.Message}", e);
    }
}
