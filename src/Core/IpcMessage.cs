using System;
using System.Text;
using IpcChannel.Serialization;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>
/// A received message not yet deserialized: its bytes and the handles that came with it (as delivered by an
/// <see cref="IpcReceiverSet"/>).
/// </summary>
/// <remarks>
/// <see cref="Deserialize{T}"/> claims the handles; a message with handles can be deserialized once.
/// Dispose a message you do not deserialize, to close its handles at once rather than at finalization.
/// </remarks>
public sealed class IpcMessage : IDisposable
{
    private readonly IpcSerializerOptions _options;
    private ReceivedHandles? _handles;
    private bool _consumed;

    internal IpcMessage(byte[] data, ReceivedHandles? handles, IpcSerializerOptions options)
    {
        Data = data;
        _handles = handles;
        _options = options;
    }

    /// <summary>The message bytes (MessagePack for typed channels).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Whether the message carried OS handles (channels or shared memory).</summary>
    public bool HasHandles => _handles is not null;

    /// <summary>Builds a message from bytes alone (no handles), e.g. for tests.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The message.</returns>
    public static IpcMessage FromData(ReadOnlySpan<byte> data) => new(data.ToArray(), null, IpcSerializerOptions.Default);

    /// <summary>Deserializes the message as <typeparamref name="T"/>, claiming its handles.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <returns>The value.</returns>
    /// <exception cref="IpcSerializationException">The bytes or handles do not make a <typeparamref name="T"/>; the handles are closed.</exception>
    /// <exception cref="InvalidOperationException">A message with handles was already deserialized.</exception>
    public T Deserialize<T>()
    {
        if (_consumed)
        {
            throw new InvalidOperationException("This message carried handles and was already deserialized (or disposed); its handles belong to the first result.");
        }

        ReceivedHandles? handles = _handles;
        if (handles is not null)
        {
            _consumed = true;
            _handles = null;
        }

        IpcSerializationContext context = _options.RentContext();
        try
        {
            return MessageCodec.Deserialize<T>(context, Data, handles);
        }
        finally
        {
            _options.ReturnContext(context);
        }
    }

    /// <summary>Closes any handles not claimed by <see cref="Deserialize{T}"/>.</summary>
    public void Dispose()
    {
        ReceivedHandles? handles = _handles;
        if (handles is not null)
        {
            // The handles are gone: a later Deserialize must say so, not misreport a malformed message.
            _consumed = true;
            _handles = null;
            handles.Dispose();
        }
    }

    /// <summary>Shows at most 256 bytes.</summary>
    /// <returns>A description.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("IpcMessage (").Append(Data.Length).Append(" bytes");
        if (_handles is not null)
        {
            text.Append(", ").Append(_handles.ChannelCount).Append(" channels, ").Append(_handles.RegionCount).Append(" regions");
        }

        text.Append("): ").Append(Convert.ToHexString(Data.Span[..Math.Min(Data.Length, 256)]));
        return text.ToString();
    }
}
