namespace IpcChannel.Supervisor.TestHost;

/// <summary>A command to a probe worker: <see cref="Verb"/> says what to do.</summary>
public sealed record ProbeCommand(string Verb, string Text = "", int Number = 0);

/// <summary>A probe worker's answer.</summary>
public sealed record ProbeReply(string Text, int Pid, int Incarnation, long Number = 0);

/// <summary>One item on a brokered link.</summary>
public sealed record BulkItem(int Sequence, byte[] Payload);
