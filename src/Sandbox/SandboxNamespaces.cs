using System;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>The namespaces a sandboxed worker gets, besides the user namespace that carries them.</summary>
[Flags]
public enum SandboxNamespaces
{
    /// <summary>Only the user namespace.</summary>
    None = 0,

    /// <summary>A network namespace with only a loopback interface, which is down: no network at all.</summary>
    Network = 1 << 0,

    /// <summary>A PID namespace (the worker is its PID 1 and sees only its own processes, /proc remounted).</summary>
    Pid = 1 << 1,

    /// <summary>An IPC namespace (System V IPC and POSIX message queues).</summary>
    Ipc = 1 << 2,

    /// <summary>A UTS namespace (host name).</summary>
    Uts = 1 << 3,

    /// <summary>
    /// A mount namespace: the worker's private root (<see cref="SandboxLayers.PrivateRoot"/>), or without that layer the
    /// host's whole tree remounted read-only, except the worker directory.
    /// </summary>
    Mount = 1 << 4,

    /// <summary>All of them (the default).</summary>
    All = Network | Pid | Ipc | Uts | Mount,
}
