using System;
using System.Buffers;
using MessagePack;
using MessagePack.Formatters;

namespace IpcChannel.Serialization;

/// <summary>
/// <c>byte[]</c> as MessagePack <c>bin</c>, read into an array the GC does not zero first: a large blob is
/// copied once from the received payload instead of being cleared and then copied.
/// </summary>
internal sealed class ByteArrayFormatter : IMessagePackFormatter<byte[]?>
{
    /// <summary>The formatter (stateless).</summary>
    public static readonly ByteArrayFormatter Instance = new();

    private ByteArrayFormatter()
    {
    }

    /// <inheritdoc/>
    public void Serialize(ref MessagePackWriter writer, byte[]? value, MessagePackSerializerOptions options) => writer.Write(value);

    /// <inheritdoc/>
    public byte[]? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        ReadOnlySequence<byte>? bytes = reader.ReadBytes();
        if (bytes is not { } sequence)
        {
            return null;
        }

        byte[] array = GC.AllocateUninitializedArray<byte>(checked((int)sequence.Length));
        sequence.CopyTo(array);
        return array;
    }
}
