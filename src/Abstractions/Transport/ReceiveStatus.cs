namespace IpcChannel.Transport;

/// <summary>The outcome of a non-blocking receive.</summary>
internal enum ReceiveStatus
{
    /// <summary>A whole message was received.</summary>
    Message,

    /// <summary>Nothing is queued right now.</summary>
    Empty,

    /// <summary>Every sender is gone and every message has been received; this is final.</summary>
    Closed,
}
