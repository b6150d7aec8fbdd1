using MessagePack;
using MessagePack.Formatters;

namespace IpcChannel.Supervisor.Protocol.Formatters;

/// <summary>Reading helpers: every count and kind read off the wire is checked.</summary>
internal static class Wire
{
    public static void ReadHeader(ref MessagePackReader reader, int expected, string type)
    {
        int count = reader.ReadArrayHeader();
        if (count != expected)
        {
            throw new MessagePackSerializationException($"A {type} must be an array of {expected} items, not {count}.");
        }
    }

    public static TEnum ReadKind<TEnum>(ref MessagePackReader reader, int max)
        where TEnum : struct, System.Enum
    {
        int value = reader.ReadInt32();
        if (value < 1 || value > max)
        {
            throw new MessagePackSerializationException($"{value} is not a {typeof(TEnum).Name}.");
        }

        return (TEnum)(object)value;
    }

    public static T Read<T>(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        options.Resolver.GetFormatterWithVerify<T>().Deserialize(ref reader, options);

    public static void Write<T>(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options) =>
        options.Resolver.GetFormatterWithVerify<T>().Serialize(ref writer, value, options);
}

internal sealed class ControlUpFormatter : IMessagePackFormatter<ControlUp?>
{
    public void Serialize(ref MessagePackWriter writer, ControlUp? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(8);
        writer.Write((int)value.Kind);
        writer.Write(value.Number);
        writer.Write(value.Text1);
        writer.Write(value.Text2);
        writer.Write(value.Text3);
        writer.Write(value.EventId);
        Wire.Write(ref writer, value.Sender, options);
        WorkerHello? hello = value.Hello;
        if (hello is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(9);
        writer.Write(hello.Token);
        writer.Write(hello.WorkerName);
        writer.Write(hello.Incarnation);
        writer.Write(hello.Pid);
        writer.Write(hello.InType);
        writer.Write(hello.OutType);
        Wire.Write(ref writer, hello.DataDown, options);
        Wire.Write(ref writer, hello.DataUp, options);
        Wire.Write(ref writer, hello.ControlDown, options);
    }

    public ControlUp? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        options.Security.DepthStep(ref reader);
        try
        {
            Wire.ReadHeader(ref reader, 8, nameof(ControlUp));
            ControlUpKind kind = Wire.ReadKind<ControlUpKind>(ref reader, 4);
            long number = reader.ReadInt64();
            string? text1 = reader.ReadString();
            string? text2 = reader.ReadString();
            string? text3 = reader.ReadString();
            int eventId = reader.ReadInt32();
            OpaqueIpcSender? sender = Wire.Read<OpaqueIpcSender?>(ref reader, options);
            WorkerHello? hello = null;
            if (!reader.TryReadNil())
            {
                Wire.ReadHeader(ref reader, 9, nameof(WorkerHello));
                hello = new WorkerHello
                {
                    Token = reader.ReadString() ?? string.Empty,
                    WorkerName = reader.ReadString() ?? string.Empty,
                    Incarnation = reader.ReadInt32(),
                    Pid = reader.ReadInt32(),
                    InType = reader.ReadString() ?? string.Empty,
                    OutType = reader.ReadString() ?? string.Empty,
                    DataDown = Wire.Read<OpaqueIpcSender?>(ref reader, options) ?? throw new MessagePackSerializationException("A hello has no data sender."),
                    DataUp = Wire.Read<OpaqueIpcReceiver?>(ref reader, options) ?? throw new MessagePackSerializationException("A hello has no data receiver."),
                    ControlDown = Wire.Read<OpaqueIpcSender?>(ref reader, options) ?? throw new MessagePackSerializationException("A hello has no control sender."),
                };
            }

            return new ControlUp { Kind = kind, Number = number, Text1 = text1, Text2 = text2, Text3 = text3, EventId = eventId, Sender = sender, Hello = hello };
        }
        finally
        {
            reader.Depth--;
        }
    }
}

internal sealed class ControlDownFormatter : IMessagePackFormatter<ControlDown?>
{
    public void Serialize(ref MessagePackWriter writer, ControlDown? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(4);
        writer.Write((int)value.Kind);
        writer.Write(value.Number);
        writer.Write(value.LinkName);
        Wire.Write(ref writer, value.Sender, options);
    }

    public ControlDown? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        Wire.ReadHeader(ref reader, 4, nameof(ControlDown));
        return new ControlDown
        {
            Kind = Wire.ReadKind<ControlDownKind>(ref reader, 5),
            Number = reader.ReadInt64(),
            LinkName = reader.ReadString(),
            Sender = Wire.Read<OpaqueIpcSender?>(ref reader, options),
        };
    }
}

internal sealed class DownEnvelopeFormatter<T> : IMessagePackFormatter<DownEnvelope<T>>
{
    public void Serialize(ref MessagePackWriter writer, DownEnvelope<T> value, MessagePackSerializerOptions options)
    {
        writer.WriteArrayHeader(3);
        writer.Write((int)value.Kind);
        writer.Write(value.Id);
        Wire.Write(ref writer, value.Payload, options);
    }

    public DownEnvelope<T> Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        Wire.ReadHeader(ref reader, 3, "message from the parent");
        DownKind kind = Wire.ReadKind<DownKind>(ref reader, 2);
        long id = reader.ReadInt64();
        return new DownEnvelope<T>(kind, id, Wire.Read<T>(ref reader, options));
    }
}

internal sealed class UpEnvelopeFormatter<T> : IMessagePackFormatter<UpEnvelope<T>>
{
    public void Serialize(ref MessagePackWriter writer, UpEnvelope<T> value, MessagePackSerializerOptions options)
    {
        writer.WriteArrayHeader(5);
        writer.Write((int)value.Kind);
        writer.Write(value.Id);
        if (value.Kind == UpKind.Fault)
        {
            writer.WriteNil();
        }
        else
        {
            Wire.Write(ref writer, value.Payload!, options);
        }

        writer.Write(value.ErrorType);
        writer.Write(value.Error);
    }

    public UpEnvelope<T> Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        Wire.ReadHeader(ref reader, 5, "message from a worker");
        UpKind kind = Wire.ReadKind<UpKind>(ref reader, 3);
        long id = reader.ReadInt64();
        T? payload = default;
        if (kind == UpKind.Fault)
        {
            if (!reader.TryReadNil())
            {
                throw new MessagePackSerializationException("A fault carries no payload.");
            }
        }
        else
        {
            payload = Wire.Read<T>(ref reader, options);
        }

        return new UpEnvelope<T>(kind, id, payload, reader.ReadString(), reader.ReadString());
    }
}
