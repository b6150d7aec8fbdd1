namespace IpcChannel.Supervisor.Protocol;

/// <summary>What a parent says to a worker on the control channel.</summary>
internal enum ControlDownKind
{
    /// <summary>Heartbeat; the worker answers <see cref="ControlUpKind.Pong"/> with the same number.</summary>
    Ping = 1,

    /// <summary>Stop gracefully (the worker's host stops and the process exits 0).</summary>
    Stop = 2,

    /// <summary>The worker is a link's consumer: send a sender for the link up.</summary>
    LinkRequest = 3,

    /// <summary>The worker is a link's producer: here is the sender to use.</summary>
    LinkSender = 4,

    /// <summary>A warm standby becomes the current incarnation: create the worker and serve.</summary>
    Activate = 5,
}

/// <summary>A control message from the parent to a worker.</summary>
internal sealed class ControlDown
{
    public ControlDownKind Kind { get; init; }

    /// <summary>Ping: the sequence number.</summary>
    public long Number { get; init; }

    /// <summary>LinkRequest/LinkSender: the link's name.</summary>
    public string? LinkName { get; init; }

    /// <summary>LinkSender: the sender (moved to the worker).</summary>
    public OpaqueIpcSender? Sender { get; init; }
}
