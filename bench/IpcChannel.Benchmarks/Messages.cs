using System.Collections.Generic;

namespace IpcChannel.Benchmarks;

/// <summary>The small typed record of the goals: an int, a string and 8 bytes.</summary>
public sealed record Small(int Id, string Name, byte[] Data);

/// <summary>A record carrying channel senders.</summary>
public sealed record SenderBag(int Id, List<IpcSender<int>> Senders);
