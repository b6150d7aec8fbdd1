using System;
using System.Collections.Generic;
using System.Linq;
using IpcChannel.Tests.Support;
using IpcChannel.Transport;
using Xunit;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// Bodies between the inline limit and the side channel's buffer travel as fragments on a private
/// socketpair queued before the main datagram; these pin that path together with the descriptor side channel.
/// </summary>
public class StreamedBodyTests
{
    [Theory]
    [InlineData(Frames.MaxInlineBody + 1)]
    [InlineData(1024 * 1024)]
    [InlineData((3 * 1024 * 1024) + 7)]
    public void StreamedBody_WithOverflowingDescriptorsAndRegions_ArrivesWhole(int size)
    {
        (TransportSender tx, TransportReceiver rx) = Channels.T.CreateChannel();
        var ends = new List<TransportChannelEnd>();
        var regions = new List<TransportSharedMemory>();
        try
        {
            for (int i = 0; i < 300; i++)
            {
                (TransportSender s, TransportReceiver r) = Channels.T.CreateChannel();
                ends.Add(s);
                r.Dispose();
            }

            for (int i = 0; i < 3; i++)
            {
                regions.Add(Channels.T.CreateSharedMemory((byte)(i + 1), 1000 + i));
            }

            byte[] payload = Payload.Pattern(size, seed: 3);
            tx.Send(payload, ends.ToArray(), regions.ToArray());
            (byte[] received, ReceivedHandles? handles) = rx.ReceiveMessage();
            using (handles)
            {
                Payload.AssertPattern(received, size, seed: 3);
                Assert.NotNull(handles);
                Assert.Equal(300, handles!.ChannelCount);
                Assert.Equal(3, handles.RegionCount);
                for (int i = 0; i < 3; i++)
                {
                    using TransportSharedMemory region = handles.TakeRegion(i);
                    Assert.Equal(1000 + i, region.Length);
                    Assert.True(region.Span.ToArray().All(b => b == i + 1));
                }
            }
        }
        finally
        {
            tx.Dispose();
            rx.Dispose();
            ends.ForEach(e => e.Dispose());
            regions.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public void StreamedBody_TryReceive_NeverWaitsForFragments()
    {
        (TransportSender tx, TransportReceiver rx) = Channels.T.CreateChannel();
        using (tx)
        using (rx)
        {
            // Queued whole before the main datagram: a try-receive right after the send gets all of it.
            byte[] payload = Payload.Pattern(2 * 1024 * 1024);
            tx.Send(payload);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Message, rx.TryReceive(buffer, out ReceivedHandles? handles));
            Assert.Null(handles);
            Payload.AssertPattern(buffer.WrittenSpan, payload.Length);
        }
    }
}
