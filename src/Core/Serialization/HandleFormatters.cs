using System;
using System.Buffers;
using System.Buffers.Binary;
using IpcChannel.Transport;
using MessagePack;
using MessagePack.Formatters;

namespace IpcChannel.Serialization;

/// <summary>
/// The wire form of a handle inside a MessagePack body: an extension value whose type code says what it is
/// and whose 4 bytes are its index in the message's side list.
/// </summary>
internal static class HandleWire
{
    /// <summary>Extension type code of a channel end (sender or receiver).</summary>
    public const sbyte ChannelExtension = 73;

    /// <summary>Extension type code of a shared-memory region.</summary>
    public const sbyte RegionExtension = 74;

    public static void Write(ref MessagePackWriter writer, sbyte typeCode, int index)
    {
        writer.WriteExtensionFormatHeader(new ExtensionHeader(typeCode, sizeof(int)));
        Span<byte> target = writer.GetSpan(sizeof(int));
        BinaryPrimitives.WriteInt32BigEndian(target, index);
        writer.Advance(sizeof(int));
    }

    public static int Read(ref MessagePackReader reader, sbyte typeCode, Type type)
    {
        if (reader.NextMessagePackType != MessagePackType.Extension)
        {
            throw new IpcSerializationException($"Expected a {type.Name} handle but the message holds a {reader.NextMessagePackType} value.");
        }

        ExtensionHeader header = reader.ReadExtensionFormatHeader();
        if (header.TypeCode != typeCode || header.Length != sizeof(int))
        {
            throw new IpcSerializationException($"Expected a {type.Name} handle but the message holds extension type {header.TypeCode} of {header.Length} bytes.");
        }

        ReadOnlySequence<byte> raw = reader.ReadRaw(sizeof(int));
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        raw.CopyTo(bytes);
        int index = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (index < 0)
        {
            throw new IpcSerializationException($"The message refers to handle index {index}.");
        }

        return index;
    }
}

/// <summary>Base of the formatters of channel-end types: write an index, read one and claim the handle.</summary>
/// <typeparam name="THandle">The public type.</typeparam>
internal abstract class ChannelHandleFormatter<THandle> : IMessagePackFormatter<THandle?>
    where THandle : class, IIpcChannelHandle, IDisposable
{
    /// <inheritdoc/>
    public void Serialize(ref MessagePackWriter writer, THandle? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        IpcSerializationContext context = IpcSerializationContext.From(options, typeof(THandle));
        HandleWire.Write(ref writer, HandleWire.ChannelExtension, context.AddChannel(value));
    }

    /// <inheritdoc/>
    public THandle? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        IpcSerializationContext context = IpcSerializationContext.From(options, typeof(THandle));
        int index = HandleWire.Read(ref reader, HandleWire.ChannelExtension, typeof(THandle));
        ReceivedHandles handles = context.Received ?? throw new IpcSerializationException(
            $"The message refers to a {typeof(THandle).Name} but carries no handles.");
        TransportReceivedChannel channel = handles.TakeChannel(index);
        THandle created;
        try
        {
            created = Create(channel, context.Owner);
        }
        catch
        {
            channel.Dispose();
            throw;
        }

        context.TrackCreated(created);
        return created;
    }

    /// <summary>Makes the public object from the claimed channel end.</summary>
    protected abstract THandle Create(TransportReceivedChannel channel, IpcSerializerOptions options);
}

internal sealed class IpcSenderFormatter<T> : ChannelHandleFormatter<IpcSender<T>>
{
    protected override IpcSender<T> Create(TransportReceivedChannel channel, IpcSerializerOptions options) => new(channel.ToSender(), options);
}

internal sealed class IpcReceiverFormatter<T> : ChannelHandleFormatter<IpcReceiver<T>>
{
    protected override IpcReceiver<T> Create(TransportReceivedChannel channel, IpcSerializerOptions options) => new(channel.ToReceiver(), options);
}

internal sealed class IpcBytesSenderFormatter : ChannelHandleFormatter<IpcBytesSender>
{
    protected override IpcBytesSender Create(TransportReceivedChannel channel, IpcSerializerOptions options) => new(channel.ToSender());
}

internal sealed class IpcBytesReceiverFormatter : ChannelHandleFormatter<IpcBytesReceiver>
{
    protected override IpcBytesReceiver Create(TransportReceivedChannel channel, IpcSerializerOptions options) => new(channel.ToReceiver(), options);
}

internal sealed class OpaqueIpcSenderFormatter : ChannelHandleFormatter<OpaqueIpcSender>
{
    protected override OpaqueIpcSender Create(TransportReceivedChannel channel, IpcSerializerOptions options) => new(channel.ToSender(), options);
}

internal sealed class OpaqueIpcReceiverFormatter : ChannelHandleFormatter<OpaqueIpcReceiver>
{
    protected override OpaqueIpcReceiver Create(TransportReceivedChannel channel, IpcSerializerOptions options) => new(channel.ToReceiver(), options);
}

/// <summary>Formatter of <see cref="IpcSharedMemory"/>: an index into the message's region list.</summary>
internal sealed class IpcSharedMemoryFormatter : IMessagePackFormatter<IpcSharedMemory?>
{
    /// <inheritdoc/>
    public void Serialize(ref MessagePackWriter writer, IpcSharedMemory? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        IpcSerializationContext context = IpcSerializationContext.From(options, typeof(IpcSharedMemory));
        HandleWire.Write(ref writer, HandleWire.RegionExtension, context.AddRegion(value));
    }

    /// <inheritdoc/>
    public IpcSharedMemory? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        IpcSerializationContext context = IpcSerializationContext.From(options, typeof(IpcSharedMemory));
        int index = HandleWire.Read(ref reader, HandleWire.RegionExtension, typeof(IpcSharedMemory));
        ReceivedHandles handles = context.Received ?? throw new IpcSerializationException(
            "The message refers to an IpcSharedMemory but carries no handles.");
        var memory = new IpcSharedMemory(handles.TakeRegion(index));
        context.TrackCreated(memory);
        return memory;
    }
}
