using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.MacOS;

/// <summary>
/// A set of receivers on one Mach port set. Ids are sequential and never reused (Rust's macOS backend used port
/// names, which the kernel recycles). A select returns every message that is ready, up to
/// <see cref="MaxMessagesPerReceiverPerSelect"/> per receiver: a receiver that reaches the bound is taken out of the
/// port set for the rest of that select, so one busy channel cannot starve the others.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed class MacReceiverSet : TransportReceiverSet
{
    /// <summary>The fairness bound: messages taken from one receiver in one select.</summary>
    public const int MaxMessagesPerReceiverPerSelect = 16;

    private readonly SafeMachPortHandle _set;
    private readonly Dictionary<ulong, MacReceiver> _members = new();
    private readonly Dictionary<uint, ulong> _idsByName = new();
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private MachDispatcher.Registration? _registration;

    /// <summary>An error met after some events were already collected; thrown by the next select.</summary>
    private Exception? _pendingError;

    private ulong _nextId;
    private bool _disposed;

    /// <summary>Creates an empty set.</summary>
    public MacReceiverSet() => _set = MachPorts.AllocatePortSet();

    /// <inheritdoc/>
    public override int Count => _members.Count;

    /// <inheritdoc/>
    public override ulong Add(TransportReceiver receiver)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (receiver is not MacReceiver mac)
        {
            throw new ArgumentException($"A {receiver.GetType().Name} cannot join a macOS receiver set.", nameof(receiver));
        }

        ObjectDisposedException.ThrowIf(mac.IsDisposed, mac);
        MachPorts.InsertMember(mac.Handle, _set);
        ulong id = _nextId++;
        _members.Add(id, mac);
        _idsByName.Add(NameOf(mac), id);
        return id;
    }

    /// <inheritdoc/>
    public override TransportReceiver? Remove(ulong id)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_members.Remove(id, out MacReceiver? receiver))
        {
            return null;
        }

        _idsByName.Remove(NameOf(receiver));
        MachPorts.ExtractMember(receiver.Handle, _set);
        return receiver;
    }

    /// <inheritdoc/>
    public override bool Select(TimeSpan timeout, List<TransportSelection> results)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(results);
        ThrowPendingError();
        long milliseconds = Errors.ToMilliseconds(timeout);
        int before = results.Count;
        var taken = new Dictionary<ulong, int>();
        var benched = new List<MacReceiver>();
        try
        {
            // Wait for the first event, then take whatever else is ready without waiting.
            long wait = milliseconds;
            while (true)
            {
                MachInboundResult received;
                try
                {
                    _buffer.ResetWrittenCount();
                    received = MachInbound.Receive(_set, wait, MachMessageKind.Data, LimitFor, _buffer);
                }
                catch (IpcException error)
                {
                    if (results.Count == before)
                    {
                        throw;
                    }

                    _pendingError = error;
                    break;
                }

                if (received.Status == ReceiveStatus.Empty)
                {
                    break;
                }

                wait = 0;
                if (!_idsByName.TryGetValue(received.LocalPort, out ulong id))
                {
                    received.Handles?.Dispose();
                    continue;
                }

                if (received.Status == ReceiveStatus.Closed)
                {
                    MacReceiver closed = _members[id];
                    _members.Remove(id);
                    _idsByName.Remove(received.LocalPort);
                    closed.Dispose();
                    results.Add(new TransportSelection(id, Closed: true, [], null));
                    continue;
                }

                results.Add(new TransportSelection(id, Closed: false, _buffer.WrittenSpan.ToArray(), received.Handles));
                int count = taken.TryGetValue(id, out int previous) ? previous + 1 : 1;
                taken[id] = count;
                if (count >= MaxMessagesPerReceiverPerSelect)
                {
                    MacReceiver busy = _members[id];
                    MachPorts.ExtractMember(busy.Handle, _set);
                    benched.Add(busy);
                }
            }
        }
        finally
        {
            foreach (MacReceiver receiver in benched)
            {
                if (!receiver.IsDisposed)
                {
                    MachPorts.InsertMember(receiver.Handle, _set);
                }
            }
        }

        return results.Count > before;
    }

    /// <inheritdoc/>
    public override async ValueTask SelectAsync(List<TransportSelection> results, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Select(TimeSpan.Zero, results))
            {
                return;
            }

            _registration ??= MachDispatcher.Instance.Register(_set);
            await _registration.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private int LimitFor(uint name) =>
        _idsByName.TryGetValue(name, out ulong id) ? _members[id].MaxMessageSize : int.MaxValue;

    private static uint NameOf(MacReceiver receiver)
    {
        bool referenced = false;
        receiver.Handle.DangerousAddRef(ref referenced);
        try
        {
            return receiver.Handle.DangerousGetName();
        }
        finally
        {
            if (referenced)
            {
                receiver.Handle.DangerousRelease();
            }
        }
    }

    private void ThrowPendingError()
    {
        Exception? error = _pendingError;
        if (error is not null)
        {
            _pendingError = null;
            throw error;
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _registration?.Dispose();
        foreach (MacReceiver receiver in _members.Values)
        {
            receiver.Dispose();
        }

        _members.Clear();
        _idsByName.Clear();
        _set.Dispose();
        Debug.Assert(_members.Count == 0);
    }
}
