using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.Versioning;

namespace IpcChannel.Transport.MacOS;

/// <summary>One message taken off a port or port set by <see cref="MachInbound.Receive"/>.</summary>
/// <param name="Status"><see cref="ReceiveStatus.Message"/>, <see cref="ReceiveStatus.Empty"/> (timed out) or
/// <see cref="ReceiveStatus.Closed"/> (the no-senders notification of <paramref name="LocalPort"/>).</param>
/// <param name="LocalPort">The port the message was on (a member, when receiving on a port set).</param>
/// <param name="Sender">The sender's credentials from the audit trailer.</param>
/// <param name="Handles">The message's channels and regions, or <see langword="null"/>.</param>
internal readonly record struct MachInboundResult(ReceiveStatus Status, uint LocalPort, PeerCredentials Sender, ReceivedHandles? Handles);

/// <summary>
/// Receives messages: <c>mach_msg</c> with the audit trailer and <c>MACH_RCV_LARGE</c> (a message too large for the
/// buffer stays queued; the buffer grows and the receive is retried, so nothing is lost), then turns what arrived into
/// owned objects. Every right and range the kernel handed over is released unless a returned object owns it.
/// </summary>
[SupportedOSPlatform("macos")]
internal static unsafe class MachInbound
{
    /// <summary>The first receive buffer: enough for a small message and the largest trailer.</summary>
    private const int InitialBufferSize = 4096;

    /// <summary>Receives one message from <paramref name="port"/> (a receive right or a port set).</summary>
    /// <param name="port">Where to receive.</param>
    /// <param name="milliseconds">How long to wait: -1 forever, 0 not at all.</param>
    /// <param name="expected">The kind of message that is valid here (<see cref="MachMessageKind.Data"/> or <see cref="MachMessageKind.Hello"/>).</param>
    /// <param name="limitFor">The largest payload accepted, by the port a message is on.</param>
    /// <param name="destination">Receives the payload of a data message (only once the whole message checked out).</param>
    /// <returns>What was received.</returns>
    /// <exception cref="IpcSerializationException">A malformed message was received; it was consumed and released.</exception>
    /// <exception cref="IpcException">The receive failed.</exception>
    public static MachInboundResult Receive(
        SafeMachPortHandle port, long milliseconds, MachMessageKind expected, Func<uint, int> limitFor, IBufferWriter<byte>? destination)
    {
        long deadline = milliseconds <= 0 ? 0 : Stopwatch.GetTimestamp() + (milliseconds * Stopwatch.Frequency / 1000);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        try
        {
            while (true)
            {
                int options = Interop.MACH_RCV_MSG | Interop.MACH_RCV_LARGE | Interop.MACH_RCV_LARGE_IDENTITY | MachWire.ReceiveTrailerOptions;
                uint timeout = 0;
                if (milliseconds >= 0)
                {
                    options |= Interop.MACH_RCV_TIMEOUT;
                    if (milliseconds > 0)
                    {
                        long remaining = deadline - Stopwatch.GetTimestamp();
                        timeout = remaining <= 0 ? 0 : (uint)Math.Min(uint.MaxValue - 1, (remaining * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
                    }
                }

                int result = ReceiveInto(port, buffer, options, timeout, out uint portName);
                switch (result & ~Interop.MACH_MSG_MASK)
                {
                    case Interop.MACH_MSG_SUCCESS:
                        MachInboundResult? received = Process(buffer, expected, limitFor, destination);
                        if (received is not null)
                        {
                            return received.Value;
                        }

                        continue; // A kernel notification that carries nothing for us.

                    case Interop.MACH_RCV_TOO_LARGE:
                        long needed = (long)MachMessageReader.ReadSize(buffer) + MachWire.MaxTrailerSize;
                        if (needed > MachWire.MaxKernelMessage + MachWire.MaxTrailerSize)
                        {
                            uint member = MachMessageReader.ReadLocalPort(buffer);
                            Discard(member == Interop.MACH_PORT_NULL ? portName : member);
                            throw Errors.Malformed($"it needs {needed} bytes of kernel message, more than {MachWire.MaxKernelMessage}");
                        }

                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent((int)needed);
                        continue;

                    case Interop.MACH_RCV_TIMED_OUT:
                        return new MachInboundResult(ReceiveStatus.Empty, Interop.MACH_PORT_NULL, default, null);

                    case Interop.MACH_RCV_INTERRUPTED:
                        continue;

                    case Interop.MACH_RCV_BODY_ERROR:
                        // The message was taken off the queue with only part of its body: release what did arrive.
                        ReleaseAll(buffer);
                        throw Errors.ForKernReturn(result, "mach_msg receive (the message's rights or memory could not be installed)");

                    default:
                        throw Errors.ForKernReturn(result, "mach_msg receive on an IPC channel");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int ReceiveInto(SafeMachPortHandle port, byte[] buffer, int options, uint timeout, out uint portName)
    {
        bool referenced = false;
        port.DangerousAddRef(ref referenced);
        try
        {
            portName = port.DangerousGetName();
            fixed (byte* b = buffer)
            {
                return Interop.MachMsg(b, options, 0, (uint)buffer.Length, portName, timeout, Interop.MACH_PORT_NULL);
            }
        }
        finally
        {
            if (referenced)
            {
                port.DangerousRelease();
            }
        }
    }

    /// <summary>Takes a message too large to accept off the queue: received without <c>MACH_RCV_LARGE</c> into a tiny
    /// buffer, the kernel destroys it with every right and range it carried.</summary>
    private static void Discard(uint port)
    {
        byte* scratch = stackalloc byte[MachWire.HeaderSize + MachWire.MaxTrailerSize];
        _ = Interop.MachMsg(scratch, Interop.MACH_RCV_MSG | Interop.MACH_RCV_TIMEOUT, 0, MachWire.HeaderSize, port, 0, Interop.MACH_PORT_NULL);
    }

    private static void ReleaseAll(ReadOnlySpan<byte> image)
    {
        var rights = new List<MachReceivedRight>();
        var memory = new List<MachReceivedMemory>();
        var arrays = new List<MachReceivedPortArray>();
        MachMessageReader.CollectResources(image, rights, memory, arrays);
        MachPorts.Release(rights, memory, arrays);
    }

    /// <summary>Validates a received image and turns it into owned objects; null for a notification to skip.</summary>
    private static MachInboundResult? Process(byte[] buffer, MachMessageKind expected, Func<uint, int> limitFor, IBufferWriter<byte>? destination)
    {
        // The image is the message plus the trailer the kernel wrote after it (bounded by the buffer).
        uint messageSize = MachMessageReader.ReadSize(buffer);
        int imageLength = buffer.Length;
        if (messageSize + 8 <= (uint)buffer.Length)
        {
            uint trailerSize = BitConverterLittleEndian(buffer, (int)messageSize + 4);
            imageLength = (int)Math.Min((long)buffer.Length, (long)messageSize + trailerSize);
        }

        ReadOnlySpan<byte> image = buffer.AsSpan(0, imageLength);
        var rights = new List<MachReceivedRight>();
        var memory = new List<MachReceivedMemory>();
        var arrays = new List<MachReceivedPortArray>();
        MachMessageReader.CollectResources(image, rights, memory, arrays);

        var channels = new List<TransportReceivedChannel>();
        var regions = new List<TransportSharedMemory>();
        bool success = false;
        try
        {
            MachParsedMessage message = MachMessageReader.Parse(image, limitFor(MachMessageReader.ReadLocalPort(image)));
            switch (message.Kind)
            {
                case MachMessageKind.KernelNotification:
                    success = true;
                    return null;
                case MachMessageKind.NoSenders:
                    success = true;
                    return new MachInboundResult(ReceiveStatus.Closed, message.LocalPort, message.Sender, null);
                default:
                    if (message.Kind != expected)
                    {
                        throw Errors.Malformed(expected == MachMessageKind.Hello
                            ? "a server port received a data message instead of a client's hello"
                            : "a channel received a server hello");
                    }

                    break;
            }

            int entry = 0;
            foreach (int length in message.RegionLengths)
            {
                if (length == 0)
                {
                    regions.Add(MacSharedMemory.Empty());
                    continue;
                }

                SafeMachPortHandle entryRight = Claim(rights, message.RegionEntries[entry++]);
                regions.Add(MacSharedMemory.FromReceived(entryRight, length));
            }

            foreach (MachReceivedRight channel in message.Channels)
            {
                channels.Add(new MacReceivedChannel(Claim(rights, channel)));
            }

            if (message.PayloadLength > 0 && destination is not null)
            {
                if (message.InlinePayloadOffset >= 0)
                {
                    destination.Write(image.Slice(message.InlinePayloadOffset, message.PayloadLength));
                }
                else
                {
                    MachReceivedMemory payload = message.OutOfLinePayload;
                    memory.Remove(payload);
                    using var range = new SafeVmRegionHandle(payload.Address, payload.Size);
                    destination.Write(new ReadOnlySpan<byte>((void*)payload.Address, message.PayloadLength));
                }
            }

            ReceivedHandles? handles = channels.Count + regions.Count > 0 ? new ReceivedHandles(channels, regions) : null;
            success = true;
            return new MachInboundResult(ReceiveStatus.Message, message.LocalPort, message.Sender, handles);
        }
        finally
        {
            if (!success)
            {
                foreach (TransportReceivedChannel channel in channels)
                {
                    channel.Dispose();
                }

                foreach (TransportSharedMemory region in regions)
                {
                    region.Dispose();
                }
            }

            // Whatever nobody took (everything, for a malformed message) goes back to the kernel.
            MachPorts.Release(rights, memory, arrays);
        }
    }

    private static uint BitConverterLittleEndian(byte[] buffer, int offset) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset));

    /// <summary>Moves one right from the to-release list into a handle that owns it.</summary>
    private static SafeMachPortHandle Claim(List<MachReceivedRight> rights, MachReceivedRight right)
    {
        MachPortRight kind = right.Disposition == Interop.MACH_MSG_TYPE_PORT_RECEIVE ? MachPortRight.Receive : MachPortRight.Send;

        // A sender that died in transit (MACH_PORT_DEAD) owns nothing and is not in the list.
        rights.Remove(right);
        return new SafeMachPortHandle(right.Name, kind);
    }
}
