using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Transport;

namespace IpcChannel;

/// <summary>
/// Waits on many receivers at once. Each select returns every message that was ready and every channel
/// that closed; one busy channel cannot starve the others.
/// </summary>
/// <remarks>
/// Receivers are moved into the set and cannot be taken back. Ids are sequential from 0 and never reused.
/// One caller at a time. <see cref="Select"/> on an empty set waits forever (use a timeout or a token).
/// <see cref="Dispose"/> releases a select blocked on another thread (synchronous or asynchronous) with
/// <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed class IpcReceiverSet : IDisposable
{
    private readonly TransportReceiverSet _set;
    private readonly Dictionary<ulong, IpcSerializerOptions> _options = new();
    private readonly List<TransportSelection> _events = new();

    /// <summary>Creates an empty set.</summary>
    /// <exception cref="IpcException">The OS refused.</exception>
    public IpcReceiverSet() => _set = IpcTransports.Current.CreateReceiverSet();

    /// <summary>The number of receivers in the set.</summary>
    public int Count => _set.Count;

    /// <summary>Moves a typed receiver into the set.</summary>
    /// <typeparam name="T">Its message type.</typeparam>
    /// <param name="receiver">The receiver; unusable afterwards.</param>
    /// <returns>Its id.</returns>
    public ulong Add<T>(IpcReceiver<T> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        return AddCore(receiver.Take(), receiver.Options);
    }

    /// <summary>Moves a bytes receiver into the set.</summary>
    /// <param name="receiver">The receiver; unusable afterwards.</param>
    /// <returns>Its id.</returns>
    public ulong Add(IpcBytesReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        return AddCore(receiver.Take(), receiver.Options);
    }

    /// <summary>Moves an opaque receiver into the set.</summary>
    /// <param name="receiver">The receiver; unusable afterwards.</param>
    /// <returns>Its id.</returns>
    public ulong AddOpaque(OpaqueIpcReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        return AddCore(receiver.Take(), receiver.Options);
    }

    /// <summary>Waits until at least one event happens.</summary>
    /// <returns>Every ready message and every closed channel.</returns>
    /// <exception cref="IpcSerializationException">A receiver delivered a malformed message (it was discarded; events collected before it are returned by the next call).</exception>
    /// <exception cref="ObjectDisposedException">The set was disposed, also while this call was waiting.</exception>
    public IReadOnlyList<IpcSelectionResult> Select() => SelectCore(Timeout.InfiniteTimeSpan);

    /// <summary>Returns the events that are ready now, without waiting.</summary>
    /// <returns>The events; empty when nothing is ready.</returns>
    public IReadOnlyList<IpcSelectionResult> TrySelect() => SelectCore(TimeSpan.Zero);

    /// <summary>Waits up to <paramref name="timeout"/> for events.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <returns>The events; empty when the timeout passed with none.</returns>
    /// <exception cref="ObjectDisposedException">The set was disposed, also while this call was waiting.</exception>
    public IReadOnlyList<IpcSelectionResult> TrySelect(TimeSpan timeout) => SelectCore(timeout);

    /// <summary>Waits asynchronously (readiness-driven) for at least one event.</summary>
    /// <param name="cancellationToken">Cancels the wait; nothing is consumed by a cancelled select.</param>
    /// <returns>The events.</returns>
    public async ValueTask<IReadOnlyList<IpcSelectionResult>> SelectAsync(CancellationToken cancellationToken = default)
    {
        _events.Clear();
        await _set.SelectAsync(_events, cancellationToken).ConfigureAwait(false);
        return Convert();
    }

    /// <summary>Takes a receiver out of the set and closes it (its senders then see the disconnect).</summary>
    /// <param name="id">Its id; an id not in the set is ignored.</param>
    internal void Close(ulong id)
    {
        _options.Remove(id);
        _set.Remove(id)?.Dispose();
    }

    /// <summary>Closes every receiver in the set, and releases a select waiting on another thread.</summary>
    public void Dispose() => _set.Dispose();

    private ulong AddCore(TransportReceiver receiver, IpcSerializerOptions options)
    {
        ulong id;
        try
        {
            id = _set.Add(receiver);
        }
        catch
        {
            receiver.Dispose();
            throw;
        }

        receiver.MaxMessageSize = options.MaxMessageSize;
        _options[id] = options;
        return id;
    }

    private List<IpcSelectionResult> SelectCore(TimeSpan timeout)
    {
        _events.Clear();
        _set.Select(timeout, _events);
        return Convert();
    }

    private List<IpcSelectionResult> Convert()
    {
        var results = new List<IpcSelectionResult>(_events.Count);
        foreach (TransportSelection selection in _events)
        {
            if (selection.Closed)
            {
                _options.Remove(selection.Id);
                results.Add(new IpcChannelClosed(selection.Id));
            }
            else
            {
                IpcSerializerOptions options = _options.GetValueOrDefault(selection.Id) ?? IpcSerializerOptions.Default;
                results.Add(new IpcMessageReceived(selection.Id, new IpcMessage(selection.Payload, selection.Handles, options)));
            }
        }

        _events.Clear();
        return results;
    }
}
