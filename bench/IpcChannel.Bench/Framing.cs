using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.Net.Sockets;
using MessagePack;

namespace IpcChannel.Bench;

/// <summary>A byte stream the length-prefixed baselines run over (an anonymous pipe pair or a Unix socket).</summary>
internal abstract class ByteStream : IDisposable
{
    public abstract void Write(ReadOnlySpan<byte> data);

    public abstract void ReadExactly(Span<byte> data);

    public abstract void Dispose();
}

/// <summary>Anonymous pipes: one for each direction.</summary>
internal sealed class PipeByteStream(Stream read, Stream write) : ByteStream
{
    public override void Write(ReadOnlySpan<byte> data) => write.Write(data);

    public override void ReadExactly(Span<byte> data) => read.ReadExactly(data);

    public override void Dispose()
    {
        read.Dispose();
        write.Dispose();
    }
}

/// <summary>A connected Unix-domain stream socket (System.Net.Sockets).</summary>
internal sealed class SocketByteStream(Socket socket) : ByteStream
{
    public override void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data.Slice(socket.Send(data));
        }
    }

    public override void ReadExactly(Span<byte> data)
    {
        while (!data.IsEmpty)
        {
            int got = socket.Receive(data);
            if (got == 0)
            {
                throw new EndOfStreamException("the peer closed the socket");
            }

            data = data.Slice(got);
        }
    }

    public override void Dispose() => socket.Dispose();
}

/// <summary>
/// Length-prefixed framing (u32 little-endian, then the payload), written with one write per frame from a
/// reused send buffer, read with two reads (prefix, then payload) into a reused receive buffer.
/// </summary>
internal sealed class Framer(ByteStream stream)
{
    private byte[] _sendBuffer = new byte[4 + 1024];
    private byte[] _receiveBuffer = new byte[1024];
    private readonly ArrayBufferWriter<byte> _serialized = new(1024);

    public ByteStream Stream => stream;

    /// <summary>Sends one frame holding <paramref name="payload"/>.</summary>
    public void Send(ReadOnlySpan<byte> payload)
    {
        Ensure(ref _sendBuffer, 4 + payload.Length);
        BinaryPrimitives.WriteInt32LittleEndian(_sendBuffer, payload.Length);
        payload.CopyTo(_sendBuffer.AsSpan(4));
        stream.Write(_sendBuffer.AsSpan(0, 4 + payload.Length));
    }

    /// <summary>Receives one frame; the payload stays valid until the next call.</summary>
    public ReadOnlyMemory<byte> Receive()
    {
        Span<byte> prefix = stackalloc byte[4];
        stream.ReadExactly(prefix);
        int length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        Ensure(ref _receiveBuffer, length);
        stream.ReadExactly(_receiveBuffer.AsSpan(0, length));
        return _receiveBuffer.AsMemory(0, length);
    }

    /// <summary>Serializes <paramref name="value"/> with MessagePack and sends it as one frame.</summary>
    public void SendMessagePack<T>(T value, MessagePackSerializerOptions options)
    {
        _serialized.ResetWrittenCount();
        _serialized.GetSpan(4);
        _serialized.Advance(4);
        MessagePackSerializer.Serialize(_serialized, value, options);
        Span<byte> frame = MemoryMarshalHelpers.AsWritable(_serialized);
        BinaryPrimitives.WriteInt32LittleEndian(frame, _serialized.WrittenCount - 4);
        stream.Write(frame);
    }

    /// <summary>Receives one frame and deserializes it.</summary>
    public T ReceiveMessagePack<T>(MessagePackSerializerOptions options) => MessagePackSerializer.Deserialize<T>(Receive(), options);

    private static void Ensure(ref byte[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            buffer = new byte[Math.Max(size, buffer.Length * 2)];
        }
    }
}

internal static class MemoryMarshalHelpers
{
    /// <summary>The written part of an <see cref="ArrayBufferWriter{T}"/>, writable (we own the writer).</summary>
    public static Span<byte> AsWritable(ArrayBufferWriter<byte> writer) =>
        System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(writer.WrittenSpan), writer.WrittenCount);
}
