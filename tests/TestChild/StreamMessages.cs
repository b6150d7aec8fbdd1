using System;
using System.Buffers.Binary;
using IpcChannel.Transport.Linux;

namespace IpcChannel.TestChild;

/// <summary>
/// The self-describing stream "transport-stream-until-killed" sends: message <c>seq</c> starts with <c>seq</c>
/// (u32, little-endian), the rest is the <c>(i + seq) % 251</c> pattern, and its size and handle count follow from
/// <c>seq</c>, cycling through every way a message travels (small inline, inline at the limit, memfd body, side
/// channel), so a reader can tell a whole message from a torn one.
/// </summary>
internal static class StreamMessages
{
    /// <summary>Handles carried by side-channel messages (more than one control message holds).</summary>
    public const int ManyHandles = 300;

    /// <summary>The size and handle count of message <paramref name="seq"/>.</summary>
    public static (int Size, int Handles) Describe(int seq) => (seq % 4) switch
    {
        0 => (100 + (seq % 1000), 0),
        1 => (Frames.MaxInlineBody - (seq % 7), 0),
        2 => (200_000 + (seq % 5000), 0),
        _ => (64 + (seq % 10), ManyHandles),
    };

    /// <summary>Builds message <paramref name="seq"/>'s payload.</summary>
    public static byte[] Build(int seq)
    {
        (int size, _) = Describe(seq);
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++)
        {
            payload[i] = (byte)((i + seq) % 251);
        }

        BinaryPrimitives.WriteInt32LittleEndian(payload, seq);
        return payload;
    }
}
