using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace IpcChannel.Transport.MacOS;

/// <summary>
/// Sends messages: builds the image with <see cref="MachMessageWriter"/> from referenced handles and sends it with one
/// <c>mach_msg</c>. Senders and regions travel as <c>COPY_SEND</c> (the caller keeps its right); receivers travel as
/// <c>MOVE_RECEIVE</c> and are marked moved once the kernel has taken them. A payload above
/// <see cref="MachWire.MaxInlinePayload"/> is copied once into fresh pages sent out of line (virtual copy), so the
/// receiver sees no byte of this process beyond the payload and the kernel does not copy it again.
/// </summary>
[SupportedOSPlatform("macos")]
internal static unsafe class MachOutbound
{
    private const int MaxDescriptorsOnStack = 64;

    /// <summary>Sends one message to <paramref name="destination"/>.</summary>
    /// <param name="destination">The send right of the channel (or of a server).</param>
    /// <param name="messageId">The message id.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="channels">Channel ends to transfer (this transport's).</param>
    /// <param name="regions">Regions to transfer (this transport's).</param>
    /// <param name="dontWait">
    /// Fail with <c>MACH_SEND_TIMED_OUT</c> instead of waiting when the receiver's queue is full. Only allowed when
    /// <paramref name="channels"/> holds no receiver: a timed-out send hands every right back to the sender
    /// ("pseudo-receive"), possibly under new names, and those are released here.
    /// </param>
    /// <returns>The <c>mach_msg_return_t</c> (special bits removed): success, or the error for the caller to map.</returns>
    public static int Send(
        SafeMachPortHandle destination,
        int messageId,
        ReadOnlySpan<byte> payload,
        ReadOnlySpan<TransportChannelEnd> channels,
        ReadOnlySpan<TransportSharedMemory> regions,
        bool dontWait)
    {
        int nonEmptyRegions = 0;
        foreach (TransportSharedMemory region in regions)
        {
            if (region.Length > 0)
            {
                nonEmptyRegions++;
            }
        }

        int portCount = channels.Length + nonEmptyRegions;
        Span<MachPortDescriptor> ports = portCount <= MaxDescriptorsOnStack ? stackalloc MachPortDescriptor[portCount] : new MachPortDescriptor[portCount];
        Span<int> regionLengths = regions.Length <= MaxDescriptorsOnStack ? stackalloc int[regions.Length] : new int[regions.Length];
        var referenced = new List<SafeHandle>(portCount + 1);
        SafeVmRegionHandle? outOfLine = null;
        byte[]? image = null;
        try
        {
            uint destinationName = AddRef(destination, referenced);
            bool carriesReceivers = false;
            for (int i = 0; i < channels.Length; i++)
            {
                switch (channels[i])
                {
                    case MacSender sender:
                        ports[i] = new MachPortDescriptor(AddRef(sender.Handle, referenced), Interop.MACH_MSG_TYPE_COPY_SEND);
                        break;
                    case MacReceiver receiver:
                        ports[i] = new MachPortDescriptor(AddRef(receiver.Handle, referenced), Interop.MACH_MSG_TYPE_MOVE_RECEIVE);
                        carriesReceivers = true;
                        break;
                    default:
                        throw new ArgumentException($"A {channels[i].GetType().Name} cannot travel over the macOS transport.", nameof(channels));
                }
            }

            int next = channels.Length;
            for (int i = 0; i < regions.Length; i++)
            {
                if (regions[i] is not MacSharedMemory region)
                {
                    throw new ArgumentException($"A {regions[i].GetType().Name} cannot travel over the macOS transport.", nameof(regions));
                }

                ObjectDisposedException.ThrowIf(region.IsDisposed, region);
                regionLengths[i] = region.Length;
                if (region.Entry is not null)
                {
                    ports[next++] = new MachPortDescriptor(AddRef(region.Entry, referenced), Interop.MACH_MSG_TYPE_COPY_SEND);
                }
            }

            if (dontWait && carriesReceivers)
            {
                throw new InvalidOperationException("A message that moves a receive right is always sent blocking.");
            }

            Span<MachOolDescriptor> ool = stackalloc MachOolDescriptor[1];
            ReadOnlySpan<byte> inlinePayload = payload;
            if (payload.Length > MachWire.MaxInlinePayload)
            {
                outOfLine = AllocateCopy(payload);
                ool[0] = new MachOolDescriptor((ulong)outOfLine.DangerousGetHandle(), (uint)payload.Length, Deallocate: false, Interop.MACH_MSG_VIRTUAL_COPY);
                inlinePayload = default;
            }
            else
            {
                ool = default;
            }

            var message = new MachOutgoingMessage(destinationName, messageId, ports, ool, payload.Length, channels.Length, regionLengths, inlinePayload);
            int size = MachMessageWriter.GetSize(message);
            image = ArrayPool<byte>.Shared.Rent(size);
            MachMessageWriter.Write(image, message);

            int options = Interop.MACH_SEND_MSG | (dontWait ? Interop.MACH_SEND_TIMEOUT : 0);
            int result;
            fixed (byte* b = image)
            {
                result = Interop.MachMsg(b, options, (uint)size, 0, Interop.MACH_PORT_NULL, 0, Interop.MACH_PORT_NULL);
            }

            int code = result & ~Interop.MACH_MSG_MASK;
            if (code is Interop.MACH_SEND_TIMED_OUT or Interop.MACH_SEND_NO_BUFFER or Interop.MACH_SEND_INTERRUPTED)
            {
                // The kernel copied the message in, then gave every right and range back into the image.
                var rights = new List<MachReceivedRight>();
                var memory = new List<MachReceivedMemory>();
                var arrays = new List<MachReceivedPortArray>();
                MachMessageReader.CollectResources(image.AsSpan(0, size), rights, memory, arrays);
                MachPorts.Release(rights, memory, arrays);
            }

            if (carriesReceivers && code is Interop.MACH_MSG_SUCCESS or Interop.MACH_SEND_NO_BUFFER or Interop.MACH_SEND_INTERRUPTED)
            {
                // Sent (or handed back under names released above): this task no longer holds those receive rights.
                ReleaseReferences(referenced);
                foreach (TransportChannelEnd channel in channels)
                {
                    (channel as MacReceiver)?.MarkMoved();
                }
            }

            return code;
        }
        finally
        {
            ReleaseReferences(referenced);
            outOfLine?.Dispose();
            if (image is not null)
            {
                ArrayPool<byte>.Shared.Return(image);
            }
        }
    }

    /// <summary>Copies a payload into fresh, zero-filled pages.</summary>
    private static SafeVmRegionHandle AllocateCopy(ReadOnlySpan<byte> payload)
    {
        var range = new SafeVmRegionHandle();
        ulong address = 0;
        int result = Interop.MachVmAllocate(Interop.MachTaskSelf, &address, (ulong)payload.Length, Interop.VM_FLAGS_ANYWHERE);
        if (result != Interop.KERN_SUCCESS)
        {
            range.Dispose();
            throw Errors.ForKernReturn(result, $"mach_vm_allocate of {payload.Length} bytes for an out-of-line payload");
        }

        range.SetRange(address, (ulong)payload.Length);
        payload.CopyTo(new Span<byte>((void*)address, payload.Length));
        return range;
    }

    private static uint AddRef(SafeMachPortHandle handle, List<SafeHandle> referenced)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        referenced.Add(handle);
        return handle.DangerousGetName();
    }

    private static void ReleaseReferences(List<SafeHandle> referenced)
    {
        foreach (SafeHandle handle in referenced)
        {
            handle.DangerousRelease();
        }

        referenced.Clear();
    }
}
