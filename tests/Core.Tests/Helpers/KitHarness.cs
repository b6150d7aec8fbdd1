using System;
using System.Text;
using IpcChannel.TestChild;
using Xunit;

namespace IpcChannel.Core.Tests.Helpers;

/// <summary>
/// Builds a <see cref="HandleKit"/> (one handle of every type) and keeps the other end of each channel, so a
/// received kit can be checked: every handle must arrive as a working object of its channel.
/// </summary>
public sealed class KitHarness : IDisposable
{
    private readonly IpcReceiver<string> _senderPeer;
    private readonly IpcSender<string> _receiverPeer;
    private readonly IpcBytesReceiver _bytesSenderPeer;
    private readonly IpcBytesSender _bytesReceiverPeer;
    private readonly IpcReceiver<string> _opaqueSenderPeer;
    private readonly IpcSender<string> _opaqueReceiverPeer;

    /// <summary>Creates the kit; a message is already queued for each receiver in it.</summary>
    public KitHarness(string label)
    {
        Label = label;
        (IpcSender<string> sender, _senderPeer) = Ipc.Channel<string>();
        (_receiverPeer, IpcReceiver<string> receiver) = Ipc.Channel<string>();
        (IpcBytesSender bytesSender, _bytesSenderPeer) = Ipc.BytesChannel();
        (_bytesReceiverPeer, IpcBytesReceiver bytesReceiver) = Ipc.BytesChannel();
        (IpcSender<string> opaqueSender, _opaqueSenderPeer) = Ipc.Channel<string>();
        (_opaqueReceiverPeer, IpcReceiver<string> opaqueReceiver) = Ipc.Channel<string>();
        MemoryContents = Encoding.UTF8.GetBytes($"memory of {label}");

        // Queued before the receivers travel: they must arrive with their queues.
        _receiverPeer.Send($"{label}:receiver");
        _bytesReceiverPeer.Send(Encoding.UTF8.GetBytes($"{label}:bytes"));
        _opaqueReceiverPeer.Send($"{label}:opaque");

        Kit = new HandleKit(
            label,
            sender,
            receiver,
            bytesSender,
            bytesReceiver,
            opaqueSender.ToOpaque(),
            opaqueReceiver.ToOpaque(),
            IpcSharedMemory.FromBytes(MemoryContents));
    }

    /// <summary>The kit's label.</summary>
    public string Label { get; }

    /// <summary>The kit to send.</summary>
    public HandleKit Kit { get; }

    /// <summary>The bytes of the kit's shared memory.</summary>
    public byte[] MemoryContents { get; }

    /// <summary>The report the core-handle-kit child scenario sends back for this kit.</summary>
    public string ExpectedChildReport =>
        $"label={Label};receiver={Label}:receiver;bytes={Convert.ToHexString(Encoding.UTF8.GetBytes($"{Label}:bytes"))};opaque={Label}:opaque;memory={Convert.ToHexString(MemoryContents)}";

    /// <summary>Asserts every handle of the original kit was moved by the send.</summary>
    public void AssertMoved()
    {
        Assert.Throws<ObjectDisposedException>(() => Kit.Sender.Send("x"));
        Assert.Throws<ObjectDisposedException>(() => Kit.Receiver.TryReceive(out _));
        Assert.Throws<ObjectDisposedException>(() => Kit.BytesSender.Send([1]));
        Assert.Throws<ObjectDisposedException>(() => Kit.BytesReceiver.TryReceive(out _));
        Assert.Throws<ObjectDisposedException>(() => Kit.OpaqueSender.Clone());
        Assert.Throws<ObjectDisposedException>(() => Kit.OpaqueReceiver.To<string>());
        Assert.Throws<ObjectDisposedException>(() => Kit.Memory.Length);
    }

    /// <summary>
    /// Exercises every handle of a received kit in this process, then disposes it. Passing <see cref="Kit"/>
    /// itself checks that a failed send moved nothing.
    /// </summary>
    public void AssertWorks(HandleKit received)
    {
        Assert.Equal(Label, received.Label);
        using (IpcSender<string> sender = received.Sender)
        {
            sender.Send($"{Label}:to-sender");
            Assert.Equal($"{Label}:to-sender", _senderPeer.ReceiveWithin());
        }

        using (IpcReceiver<string> receiver = received.Receiver)
        {
            Assert.Equal($"{Label}:receiver", receiver.ReceiveWithin());
            _receiverPeer.Send($"{Label}:later");
            Assert.Equal($"{Label}:later", receiver.ReceiveWithin());
        }

        using (IpcBytesSender bytesSender = received.BytesSender)
        {
            bytesSender.Send([7, 8, 9]);
            Assert.Equal(new byte[] { 7, 8, 9 }, _bytesSenderPeer.ReceiveWithin());
        }

        using (IpcBytesReceiver bytesReceiver = received.BytesReceiver)
        {
            Assert.Equal(Encoding.UTF8.GetBytes($"{Label}:bytes"), bytesReceiver.ReceiveWithin());
        }

        using (IpcSender<string> opaqueSender = received.OpaqueSender.To<string>())
        {
            opaqueSender.Send($"{Label}:to-opaque");
            Assert.Equal($"{Label}:to-opaque", _opaqueSenderPeer.ReceiveWithin());
        }

        using (IpcReceiver<string> opaqueReceiver = received.OpaqueReceiver.To<string>())
        {
            Assert.Equal($"{Label}:opaque", opaqueReceiver.ReceiveWithin());
        }

        using (IpcSharedMemory memory = received.Memory)
        {
            Assert.Equal(MemoryContents, memory.ToArray());
        }
    }

    /// <summary>Checks what a child reported through the kit: its report on Sender, and its sends on the other senders.</summary>
    public void AssertChildUsed(TimeSpan timeout)
    {
        // The child sends "child:sender" first, then its report, on the same sender.
        Assert.Equal("child:sender", _senderPeer.ReceiveWithin(timeout));
        Assert.Equal(ExpectedChildReport, _senderPeer.ReceiveWithin(timeout));
        Assert.Equal(new byte[] { 1, 2, 3 }, _bytesSenderPeer.ReceiveWithin(timeout));
        Assert.Equal("child:opaque", _opaqueSenderPeer.ReceiveWithin(timeout));
    }

    /// <summary>Closes the kept ends (and the kit's handles if they were never sent).</summary>
    public void Dispose()
    {
        _senderPeer.Dispose();
        _receiverPeer.Dispose();
        _bytesSenderPeer.Dispose();
        _bytesReceiverPeer.Dispose();
        _opaqueSenderPeer.Dispose();
        _opaqueReceiverPeer.Dispose();
        Kit.Sender.Dispose();
        Kit.Receiver.Dispose();
        Kit.BytesSender.Dispose();
        Kit.BytesReceiver.Dispose();
        Kit.OpaqueSender.Dispose();
        Kit.OpaqueReceiver.Dispose();
        Kit.Memory.Dispose();
    }
}
