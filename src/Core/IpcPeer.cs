namespace IpcChannel;

/// <summary>The identity of a connected client, as reported by the kernel (SO_PEERCRED / LOCAL_PEERCRED).</summary>
/// <param name="Pid">The client's process id at connect time.</param>
/// <param name="Uid">The client's effective user id.</param>
/// <param name="Gid">The client's effective group id.</param>
public sealed record IpcPeer(int Pid, uint Uid, uint Gid);
