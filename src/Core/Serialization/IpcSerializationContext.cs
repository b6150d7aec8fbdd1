using System;
using System.Collections.Generic;
using IpcChannel.Transport;
using MessagePack;

namespace IpcChannel.Serialization;

/// <summary>
/// The per-message state of one serialization or deserialization: the handle side lists and the buffer.
/// It is the <see cref="MessagePackSerializerOptions"/> instance passed to MessagePack for that message,
/// so the handle formatters reach it through their <c>options</c> parameter: explicit, never ambient, and
/// two threads serializing at once always have two contexts.
/// </summary>
internal sealed class IpcSerializationContext : MessagePackSerializerOptions
{
    private TransportChannelEnd[] _channels = new TransportChannelEnd[4];
    private TransportSharedMemory[] _regions = [];
    private readonly List<object> _moved = new();
    private readonly List<IDisposable> _created = new();

    /// <summary>Creates a context for <paramref name="owner"/>'s configuration.</summary>
    /// <param name="owner">The options the message is (de)serialized with.</param>
    public IpcSerializationContext(IpcSerializerOptions owner)
        : base(owner.EffectiveMessagePackOptions)
    {
        Owner = owner;
    }

    /// <summary>The options in force; handles created on receipt inherit them.</summary>
    public IpcSerializerOptions Owner { get; }

    /// <summary>The serialized bytes (send) or the received payload (receive).</summary>
    public PooledBufferWriter Buffer { get; } = new();

    /// <summary>The number of channel ends collected for the message being sent.</summary>
    public int ChannelCount { get; private set; }

    /// <summary>The number of regions collected for the message being sent.</summary>
    public int RegionCount { get; private set; }

    /// <summary>The channel ends to transfer.</summary>
    public ReadOnlyMemory<TransportChannelEnd> Channels => _channels.AsMemory(0, ChannelCount);

    /// <summary>The regions to transfer.</summary>
    public ReadOnlyMemory<TransportSharedMemory> Regions => _regions.AsMemory(0, RegionCount);

    /// <summary>The handles of the message being received.</summary>
    public ReceivedHandles? Received { get; set; }

    /// <summary>Adds a channel end to the message being serialized.</summary>
    /// <param name="handle">Its owner, moved once the message is sent.</param>
    /// <returns>Its index in the side list.</returns>
    public int AddChannel(IIpcChannelHandle handle)
    {
        TransportChannelEnd end = handle.EndForTransfer;
        if (ChannelCount == _channels.Length)
        {
            Array.Resize(ref _channels, _channels.Length * 2);
        }

        _channels[ChannelCount] = end;
        _moved.Add(handle);
        return ChannelCount++;
    }

    /// <summary>Adds a shared-memory region to the message being serialized.</summary>
    /// <param name="memory">The region, moved once the message is sent.</param>
    /// <returns>Its index in the side list.</returns>
    public int AddRegion(IpcSharedMemory memory)
    {
        TransportSharedMemory region = memory.RegionForTransfer;
        if (RegionCount == _regions.Length)
        {
            Array.Resize(ref _regions, Math.Max(4, _regions.Length * 2));
        }

        _regions[RegionCount] = region;
        _moved.Add(memory);
        return RegionCount++;
    }

    /// <summary>Remembers an object created from a received handle, to close it if the message fails.</summary>
    /// <param name="created">The new object.</param>
    public void TrackCreated(IDisposable created) => _created.Add(created);

    /// <summary>After a successful send: every handle in the message now belongs to the receiver.</summary>
    public void CompleteMoves()
    {
        foreach (object moved in _moved)
        {
            switch (moved)
            {
                case IIpcChannelHandle channel:
                    channel.CompleteMove();
                    break;
                case IpcSharedMemory memory:
                    memory.CompleteMove();
                    break;
            }
        }
    }

    /// <summary>After a failed receive: closes everything the message created.</summary>
    public void DisposeCreated()
    {
        foreach (IDisposable created in _created)
        {
            created.Dispose();
        }

        _created.Clear();
    }

    /// <summary>Clears the per-message state for reuse.</summary>
    public void Reset()
    {
        Array.Clear(_channels, 0, ChannelCount);
        Array.Clear(_regions, 0, RegionCount);
        ChannelCount = 0;
        RegionCount = 0;
        _moved.Clear();
        _created.Clear();
        Received = null;
        Buffer.Reset();
    }

    /// <summary>Gets the context behind <paramref name="options"/>, or explains why there is none.</summary>
    /// <param name="options">The options a formatter was given.</param>
    /// <param name="type">The handle type being (de)serialized.</param>
    /// <returns>The context.</returns>
    public static IpcSerializationContext From(MessagePackSerializerOptions options, Type type) =>
        options as IpcSerializationContext ?? throw new IpcSerializationException(
            $"{type.Name} can only be serialized as part of a message sent through an IpcChannel sender; it holds an OS handle that plain MessagePack serialization cannot carry.");
}
