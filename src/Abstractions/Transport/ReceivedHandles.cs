using System;
using System.Collections.Generic;

namespace IpcChannel.Transport;

/// <summary>
/// The OS handles that arrived with one message: channel ends (direction chosen by whoever claims them) and
/// shared-memory regions. Each may be claimed once; <see cref="Dispose"/> closes every unclaimed one.
/// </summary>
internal sealed class ReceivedHandles : IDisposable
{
    private readonly List<TransportReceivedChannel> _channels;
    private readonly List<TransportSharedMemory> _regions;
    private readonly bool[] _channelClaimed;
    private readonly bool[] _regionClaimed;
    private bool _disposed;

    /// <summary>Wraps the handles of one message; takes ownership of every element.</summary>
    /// <param name="channels">The received channel ends, in the order the sender listed them.</param>
    /// <param name="regions">The received shared-memory regions, in the order the sender listed them.</param>
    public ReceivedHandles(List<TransportReceivedChannel> channels, List<TransportSharedMemory> regions)
    {
        _channels = channels;
        _regions = regions;
        _channelClaimed = new bool[channels.Count];
        _regionClaimed = new bool[regions.Count];
    }

    /// <summary>The number of channel ends that arrived.</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>The number of shared-memory regions that arrived.</summary>
    public int RegionCount => _regions.Count;

    /// <summary>Takes channel end <paramref name="index"/>; the caller now owns it.</summary>
    /// <param name="index">Its position in the message.</param>
    /// <returns>The channel end.</returns>
    /// <exception cref="IpcSerializationException">The index is out of range or already taken.</exception>
    public TransportReceivedChannel TakeChannel(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)index >= (uint)_channels.Count)
        {
            throw new IpcSerializationException(
                $"The message refers to channel handle {index} but carries {_channels.Count}.");
        }

        if (_channelClaimed[index])
        {
            throw new IpcSerializationException($"The message refers to channel handle {index} more than once.");
        }

        _channelClaimed[index] = true;
        return _channels[index];
    }

    /// <summary>Takes shared-memory region <paramref name="index"/>; the caller now owns it.</summary>
    /// <param name="index">Its position in the message.</param>
    /// <returns>The region.</returns>
    /// <exception cref="IpcSerializationException">The index is out of range or already taken.</exception>
    public TransportSharedMemory TakeRegion(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)index >= (uint)_regions.Count)
        {
            throw new IpcSerializationException(
                $"The message refers to shared-memory region {index} but carries {_regions.Count}.");
        }

        if (_regionClaimed[index])
        {
            throw new IpcSerializationException($"The message refers to shared-memory region {index} more than once.");
        }

        _regionClaimed[index] = true;
        return _regions[index];
    }

    /// <summary>Whether every handle has been claimed.</summary>
    public bool AllClaimed => Array.TrueForAll(_channelClaimed, c => c) && Array.TrueForAll(_regionClaimed, c => c);

    /// <summary>Closes every handle nobody claimed.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (int i = 0; i < _channels.Count; i++)
        {
            if (!_channelClaimed[i])
            {
                _channels[i].Dispose();
            }
        }

        for (int i = 0; i < _regions.Count; i++)
        {
            if (!_regionClaimed[i])
            {
                _regions[i].Dispose();
            }
        }
    }
}
