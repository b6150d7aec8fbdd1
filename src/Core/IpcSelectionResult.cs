namespace IpcChannel;

/// <summary>One event reported by <see cref="IpcReceiverSet"/>: a message, or a channel that closed.</summary>
/// <param name="Id">The id <see cref="IpcReceiverSet"/> gave the receiver when it was added.</param>
public abstract record IpcSelectionResult(ulong Id);

/// <summary>A message arrived on receiver <paramref name="Id"/>.</summary>
/// <param name="Id">The receiver's id.</param>
/// <param name="Message">The message; call <see cref="IpcMessage.Deserialize{T}"/>.</param>
public sealed record IpcMessageReceived(ulong Id, IpcMessage Message) : IpcSelectionResult(Id);

/// <summary>
/// Every sender of receiver <paramref name="Id"/> is gone and all its messages were reported; the set has
/// closed and forgotten that receiver.
/// </summary>
/// <param name="Id">The receiver's id.</param>
public sealed record IpcChannelClosed(ulong Id) : IpcSelectionResult(Id);
