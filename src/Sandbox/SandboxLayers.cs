using System;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>The layers of the worker sandbox. Each can be turned off or allowed to be missing on its own.</summary>
[Flags]
public enum SandboxLayers
{
    /// <summary>No layer.</summary>
    None = 0,

    /// <summary>
    /// Reduced environment, a private per-worker working directory, no inherited descriptors beyond 0-2 and
    /// the ones listed in <see cref="SandboxOptions.InheritedFileDescriptors"/>, core dumps off, no capabilities.
    /// </summary>
    CleanStart = 1 << 0,

    /// <summary>rlimits (open files, processes/threads, file size) and the .NET GC heap hard limit.</summary>
    ResourceLimits = 1 << 1,

    /// <summary><c>PR_SET_NO_NEW_PRIVS</c>: execve can never grant privileges (set-user-ID, file capabilities).</summary>
    NoNewPrivileges = 1 << 2,

    /// <summary>Landlock filesystem rules (ABI 1+): read-only app and runtime, read-write worker directory only.</summary>
    LandlockFilesystem = 1 << 3,

    /// <summary>Landlock network rules (ABI 4+): no TCP bind or connect.</summary>
    LandlockNetwork = 1 << 4,

    /// <summary>Landlock scopes (ABI 6+): no abstract UNIX sockets or signals outside the worker's domain.</summary>
    LandlockScopes = 1 << 5,

    /// <summary>The seccomp-bpf system call filter, installed on every thread at once (TSYNC).</summary>
    Seccomp = 1 << 6,

    /// <summary>
    /// User, network, PID, IPC, UTS and mount namespaces, through unshare(1). The mount namespace carries
    /// <see cref="PrivateRoot"/>; without that layer, a read-only view of the host's tree.
    /// </summary>
    Namespaces = 1 << 7,

    /// <summary>A cgroup v2 <c>memory.max</c>, only where the machine delegates a cgroup with the memory controller.</summary>
    MemoryCgroup = 1 << 8,

    /// <summary>
    /// A root file system built from an empty tmpfs (pivot_root): read-only binds of only the app, the runtime, the
    /// system libraries, four device nodes and <see cref="SandboxOptions.ReadOnlyPaths"/>/<see cref="SandboxOptions.ReadWritePaths"/>,
    /// the worker's own <c>/proc</c>, and its private directory on a tmpfs capped at
    /// <see cref="SandboxOptions.MaxDiskBytes"/>. Nothing else of the host (its <c>/tmp</c>, <c>/run</c>, home, sockets)
    /// is visible. Needs <see cref="Namespaces"/> with <see cref="SandboxNamespaces.Mount"/>; without them it is missing.
    /// </summary>
    PrivateRoot = 1 << 9,

    /// <summary>Every Landlock layer.</summary>
    Landlock = LandlockFilesystem | LandlockNetwork | LandlockScopes,

    /// <summary>The default set: everything except <see cref="MemoryCgroup"/>, which needs a delegated cgroup.</summary>
    Default = CleanStart | ResourceLimits | NoNewPrivileges | Landlock | Seccomp | Namespaces | PrivateRoot,
}
