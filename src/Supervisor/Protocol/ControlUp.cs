namespace IpcChannel.Supervisor.Protocol;

/// <summary>What a worker says to its parent on the bootstrap connection.</summary>
internal enum ControlUpKind
{
    /// <summary>The first message: identity, message types and the channel ends the parent keeps.</summary>
    Hello = 1,

    /// <summary>The answer to a heartbeat <see cref="ControlDownKind.Ping"/>.</summary>
    Pong = 2,

    /// <summary>A log record of the worker's ILogger.</summary>
    Log = 3,

    /// <summary>A sender of a brokered link (the worker is the link's consumer).</summary>
    LinkSender = 4,
}

/// <summary>
/// A control message from a worker to its parent. One flat shape keeps the wire small and the formatter
/// hand-written (no run-time code generation at worker start).
/// </summary>
internal sealed class ControlUp
{
    public ControlUpKind Kind { get; init; }

    /// <summary>Pong: the ping's sequence number. Log: the level.</summary>
    public long Number { get; init; }

    /// <summary>Hello: its fields. Null otherwise.</summary>
    public WorkerHello? Hello { get; init; }

    /// <summary>Log: the category. LinkSender: the link's name.</summary>
    public string? Text1 { get; init; }

    /// <summary>Log: the formatted message.</summary>
    public string? Text2 { get; init; }

    /// <summary>Log: the exception, as text.</summary>
    public string? Text3 { get; init; }

    /// <summary>Log: the event id.</summary>
    public int EventId { get; init; }

    /// <summary>LinkSender: the sender (moved to the parent).</summary>
    public OpaqueIpcSender? Sender { get; init; }
}

/// <summary>The fields of a worker's hello.</summary>
internal sealed class WorkerHello
{
    public required string Token { get; init; }

    public required string WorkerName { get; init; }

    public int Incarnation { get; init; }

    public int Pid { get; init; }

    /// <summary>The full name of the worker's parent-to-worker message type.</summary>
    public required string InType { get; init; }

    /// <summary>The full name of the worker's worker-to-parent message type.</summary>
    public required string OutType { get; init; }

    /// <summary>The parent's end of the data channel to the worker.</summary>
    public required OpaqueIpcSender DataDown { get; init; }

    /// <summary>The parent's end of the data channel from the worker.</summary>
    public required OpaqueIpcReceiver DataUp { get; init; }

    /// <summary>The parent's end of the control channel to the worker.</summary>
    public required OpaqueIpcSender ControlDown { get; init; }
}
