using System.Collections.Generic;

namespace IpcChannel.Bench;

/// <summary>A record carrying a byte payload: the typed channel's large-message case.</summary>
public sealed record Blob(int Id, byte[] Data);

/// <summary>The small typed record of the goals: an int, a string and 8 bytes.</summary>
public sealed record Small(int Id, string Name, byte[] Data);

/// <summary>A message carrying channel senders (each one descriptor).</summary>
public sealed record SenderBag(int Id, List<IpcSender<int>> Senders);

/// <summary>A message carrying one shared-memory region.</summary>
public sealed record ShmMessage(int Id, IpcSharedMemory Memory);

/// <summary>
/// What the child sends to the parent's one-shot server: one end of every channel the IpcChannel scenarios
/// use. "Down" ends carry parent→child traffic (the child kept the receivers), "Up" ends child→parent.
/// </summary>
public sealed record Boot(
    IpcBytesSender BytesDown,
    IpcBytesReceiver BytesUp,
    IpcSender<Blob> BlobDown,
    IpcReceiver<Blob> BlobUp,
    IpcSender<Small> SmallDown,
    IpcReceiver<Small> SmallUp,
    IpcSender<SenderBag> BagDown,
    IpcReceiver<SenderBag> BagUp,
    IpcSender<ShmMessage> ShmDown,
    IpcReceiver<long> AckUp,
    string CpusAllowed);
