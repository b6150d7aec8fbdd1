namespace HostedWorkers;

/// <summary>Asks the hasher for the SHA-256 of a text.</summary>
public sealed record HashRequest(string Text);

/// <summary>The hasher's answer, with who computed it.</summary>
public sealed record HashResult(string Text, string Sha256, int Pid, int Incarnation);

/// <summary>Commands to the clock (none needed: it only ticks).</summary>
public sealed record ClockCommand(string Verb);

/// <summary>A tick the clock sends on its own every second.</summary>
public sealed record ClockTick(long Number, int Pid, System.DateTimeOffset At);
