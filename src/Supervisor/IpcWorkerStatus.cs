using System;

namespace IpcChannel.Supervisor;

/// <summary>A snapshot of a supervised worker.</summary>
/// <param name="Name">The worker's name.</param>
/// <param name="State">Its state.</param>
/// <param name="Pid">The process id of the current incarnation, or 0 when none runs.</param>
/// <param name="Incarnation">1 for the first start, incremented on every (re)start; 0 before the first.</param>
/// <param name="Restarts">How many times it was restarted.</param>
/// <param name="LastHeartbeat">When its last heartbeat answer arrived (UTC), or null.</param>
public sealed record IpcWorkerStatus(string Name, IpcWorkerState State, int Pid, int Incarnation, int Restarts, DateTimeOffset? LastHeartbeat);
