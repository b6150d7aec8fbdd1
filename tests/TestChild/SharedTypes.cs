using System;
using System.Collections.Generic;

namespace IpcChannel.TestChild;

// Message types shared by tests/Core.Tests and the CoreScenarios of this program. They are public,
// attribute-free records (contractless MessagePack), like the messages users write.

/// <summary>Rust test.rs's <c>("Patrick Walton".to_owned(), 29)</c> person tuple.</summary>
public sealed record Named(string Name, uint Age);

/// <summary>A numbered payload: <see cref="Data"/> holds <see cref="Pattern"/> for <see cref="Index"/>, so corruption shows.</summary>
public sealed record Numbered(int Index, byte[] Data)
{
    /// <summary>The bytes message <paramref name="index"/> of <paramref name="size"/> bytes carries.</summary>
    public static byte[] Pattern(int index, int size)
    {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++)
        {
            data[i] = (byte)((index + i) % 251);
        }

        return data;
    }

    /// <summary>Whether <see cref="Data"/> is exactly the pattern for <see cref="Index"/>.</summary>
    public bool IsWhole(int expectedSize) => Data.Length == expectedSize && Data.AsSpan().SequenceEqual(Pattern(Index, expectedSize));

    /// <summary>The size of message <paramref name="index"/> in the send-and-exit scenarios: every third one is larger than an inline datagram.</summary>
    public static int SizeOf(int index) => index % 3 == 0 ? 200_000 + index : 100 + index;
}

/// <summary>The first message a child sends to a server: who it is, and (optionally) where to reach it.</summary>
public sealed record ChildHello(int Pid, IpcSender<Forward>? Inbox);

/// <summary>
/// Relay step: <see cref="Queue"/> is a receiver whose queue holds a <see cref="Payload"/> (itself carrying a sender).
/// A child with a <see cref="Next"/> forwards the queue there; the last child reads the payload and replies.
/// </summary>
public sealed record Forward(IpcReceiver<Payload> Queue, IpcSender<Forward>? Next);

/// <summary>A text and the sender to reply to.</summary>
public sealed record Payload(string Text, IpcSender<string> ReplyTo);

/// <summary>One of every handle type IpcChannel can carry inside a message.</summary>
public sealed record HandleKit(
    string Label,
    IpcSender<string> Sender,
    IpcReceiver<string> Receiver,
    IpcBytesSender BytesSender,
    IpcBytesReceiver BytesReceiver,
    OpaqueIpcSender OpaqueSender,
    OpaqueIpcReceiver OpaqueReceiver,
    IpcSharedMemory Memory);

/// <summary>The first message of the handle-kit scenario: where the parent sends the kit.</summary>
public sealed record KitHello(int Pid, IpcSender<HandleKit> Inbox);

/// <summary>A child's list of its open descriptors: "fd -> target" lines.</summary>
public sealed record FdList(int Pid, List<string> Entries);
