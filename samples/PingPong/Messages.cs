using IpcChannel;

namespace PingPong;

/// <summary>What the parent sends to the child. Plain records: no attributes needed.</summary>
/// <param name="Kind">"ping", "side-channel", "shared-memory" or "bye".</param>
/// <param name="Number">The ping number.</param>
/// <param name="Side">A new channel's sender, travelling inside the message (for "side-channel").</param>
/// <param name="Blob">Shared memory, mapped by the child rather than copied (for "shared-memory").</param>
public record ParentMessage(string Kind, int Number, IpcSender<string>? Side = null, IpcSharedMemory? Blob = null);

/// <summary>What the child sends to the parent.</summary>
/// <param name="Kind">"hello", "pong" or "sum".</param>
/// <param name="Number">The pong number, or the byte sum.</param>
/// <param name="Text">Free text.</param>
/// <param name="Inbox">In the first message: the sender the parent talks to the child with.</param>
public record ChildMessage(string Kind, long Number, string Text, IpcSender<ParentMessage>? Inbox = null);
