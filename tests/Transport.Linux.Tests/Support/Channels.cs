using System;
using System.Buffers;
using IpcChannel.Transport;
using IpcChannel.Transport.Linux;
using Xunit;

namespace IpcChannel.Tests.Support;

/// <summary>Shorthands for tests: the transport, and receives that fail the test instead of hanging.</summary>
internal static class Channels
{
    /// <summary>How long a receive that should succeed may take before the test fails.</summary>
    public static readonly TimeSpan ReceiveBound = TimeSpan.FromSeconds(20);

    /// <summary>The transport under test.</summary>
    public static IpcTransport T => LinuxTransport.Instance;

    /// <summary>Sends bytes without handles.</summary>
    public static void Send(this TransportSender sender, ReadOnlySpan<byte> payload) => sender.Send(payload, default, default);

    /// <summary>Receives one message (bounded); fails the test on timeout or close.</summary>
    public static (byte[] Payload, ReceivedHandles? Handles) ReceiveMessage(this TransportReceiver receiver, TimeSpan? timeout = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ReceiveStatus status = receiver.Receive(timeout ?? ReceiveBound, buffer, out ReceivedHandles? handles);
        Assert.Equal(ReceiveStatus.Message, status);
        return (buffer.WrittenSpan.ToArray(), handles);
    }

    /// <summary>Receives one message that must carry no handles, and returns its bytes.</summary>
    public static byte[] ReceiveBytes(this TransportReceiver receiver, TimeSpan? timeout = null)
    {
        (byte[] payload, ReceivedHandles? handles) = receiver.ReceiveMessage(timeout);
        Assert.Null(handles);
        return payload;
    }

    /// <summary>Asserts that a receive reports the channel closed (bounded).</summary>
    public static void AssertClosed(this TransportReceiver receiver)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Equal(ReceiveStatus.Closed, receiver.Receive(ReceiveBound, buffer, out ReceivedHandles? handles));
        Assert.Null(handles);
        Assert.Equal(0, buffer.WrittenCount);
    }

    /// <summary>Asserts that nothing is queued.</summary>
    public static void AssertEmpty(this TransportReceiver receiver)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Equal(ReceiveStatus.Empty, receiver.TryReceive(buffer, out ReceivedHandles? handles));
        Assert.Null(handles);
    }

    /// <summary>Sends a short probe on a fresh channel and receives it: the process and transport still work.</summary>
    public static void AssertFreshChannelWorks()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send("still fine"u8);
            Assert.Equal("still fine"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    /// <summary>The descriptor of a sender or receiver (tests only).</summary>
    public static SafeFdHandle Fd(this TransportChannelEnd end) => end switch
    {
        LinuxSender s => s.Handle,
        LinuxReceiver r => r.Handle,
        _ => throw new ArgumentException("not a Linux channel end", nameof(end)),
    };

    /// <summary>The descriptor of a shared-memory region (tests only).</summary>
    public static SafeFdHandle Fd(this TransportSharedMemory region) => ((LinuxSharedMemory)region).Handle;

    /// <summary>The raw descriptor number (tests only; the handle must stay open while it is used).</summary>
    public static int Number(this SafeFdHandle fd) => (int)fd.DangerousGetHandle();
}
