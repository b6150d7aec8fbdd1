using System;
using System.Collections.Generic;
using System.IO;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// How a worker process is sandboxed. The defaults are the strict sandbox of docs/sandbox.md; every layer can be
/// loosened on its own: turn it off in <see cref="Layers"/>, let it be missing on machines that lack it with
/// <see cref="AllowMissing"/>, or widen what it allows with the layer's own properties.
/// </summary>
/// <remarks>
/// A POCO for <c>IOptions</c> binding. It is read when a launch is planned
/// (<see cref="SandboxLauncher"/>); changing it later does not
/// affect workers already planned.
/// </remarks>
public sealed class SandboxOptions
{
    /// <summary>The default of <see cref="MaxOpenFiles"/>: 1024.</summary>
    public const long DefaultMaxOpenFiles = 1024;

    /// <summary>The default of <see cref="MaxProcesses"/>: 256 processes and threads.</summary>
    public const long DefaultMaxProcesses = 256;

    /// <summary>The default of <see cref="MaxFileSizeBytes"/>: 1 GiB.</summary>
    public const long DefaultMaxFileSizeBytes = 1L << 30;

    /// <summary>The smallest <see cref="MaxFileSizeBytes"/> accepted: 16 MiB (see its remarks).</summary>
    public const long MinimumMaxFileSizeBytes = 16L << 20;

    /// <summary>The default of <see cref="MaxGcHeapBytes"/>: 1 GiB.</summary>
    public const long DefaultMaxGcHeapBytes = 1L << 30;

    /// <summary>The default of <see cref="MaxDataBytes"/>: 2 GiB (the default GC heap cap plus 1 GiB for everything else).</summary>
    public const long DefaultMaxDataBytes = 2L << 30;

    /// <summary>The smallest <see cref="MaxDataBytes"/> accepted: 128 MiB (the .NET runtime does not start under 64 MiB).</summary>
    public const long MinimumMaxDataBytes = 128L << 20;

    /// <summary>How much <see cref="MaxDataBytes"/> must exceed <see cref="MaxGcHeapBytes"/>: 64 MiB for the runtime's own memory.</summary>
    public const long MinimumDataAboveGcHeapBytes = 64L << 20;

    /// <summary>The default of <see cref="MaxDiskBytes"/>: 256 MiB.</summary>
    public const long DefaultMaxDiskBytes = 256L << 20;

    /// <summary>Whether the worker is sandboxed at all. Default <see langword="true"/>.</summary>
    /// <remarks>When <see langword="false"/>, the launch is returned unchanged and the stages do nothing.</remarks>
    public bool Enabled { get; set; } = true;

    /// <summary>The layers to apply. Default <see cref="SandboxLayers.Default"/> (all but the memory cgroup).</summary>
    public SandboxLayers Layers { get; set; } = SandboxLayers.Default;

    /// <summary>
    /// Layers the worker may start without when this machine lacks them. Default <see cref="SandboxLayers.None"/>:
    /// a missing layer refuses the start with a <see cref="SandboxException"/> naming it. A layer allowed to be
    /// missing produces a warning in <see cref="SandboxedLaunch.Warnings"/> at every start.
    /// </summary>
    public SandboxLayers AllowMissing { get; set; } = SandboxLayers.None;

    /// <summary>
    /// Names of variables of the supervisor's environment that the worker keeps (clean start). Variables the launch
    /// spec sets itself are always kept. Default: <c>PATH</c>, <c>LANG</c>, <c>LC_ALL</c>, <c>TZ</c> and
    /// <c>DOTNET_ROOT</c>.
    /// </summary>
    public IList<string> AllowedEnvironmentVariables { get; } = new List<string> { "PATH", "LANG", "LC_ALL", "TZ", "DOTNET_ROOT" };

    /// <summary>
    /// Descriptors above 2 that the worker is given and keeps (clean start). All others are closed when the sandbox
    /// starts. Default: none.
    /// </summary>
    public IList<int> InheritedFileDescriptors { get; } = new List<int>();

    /// <summary>
    /// The directory under which each worker gets its private directory (its working directory, <c>TMPDIR</c> and
    /// <c>HOME</c>, and the only place it may write). Default <see langword="null"/>: <c>ipcchannel-sandbox</c>
    /// under <see cref="Path.GetTempPath"/>.
    /// </summary>
    public string? WorkerDirectoryRoot { get; set; }

    /// <summary><c>RLIMIT_NOFILE</c>. Default <see cref="DefaultMaxOpenFiles"/>; <see langword="null"/> leaves it unchanged.</summary>
    public long? MaxOpenFiles { get; set; } = DefaultMaxOpenFiles;

    /// <summary>
    /// <c>RLIMIT_NPROC</c>: processes and threads of the worker's user. Default <see cref="DefaultMaxProcesses"/>;
    /// <see langword="null"/> leaves it unchanged.
    /// </summary>
    /// <remarks>
    /// The kernel does not apply this limit to real root (uid 0 outside any user namespace), even one without
    /// capabilities: it holds when the worker runs as a user of its own (<see cref="UserIdRange"/>, the default under
    /// a root supervisor) or as <see cref="RunAsUserId"/>. It counts every process and thread of that user (inside the
    /// worker's user namespace when there is one).
    /// </remarks>
    public long? MaxProcesses { get; set; } = DefaultMaxProcesses;

    /// <summary>
    /// <c>RLIMIT_FSIZE</c>. Default <see cref="DefaultMaxFileSizeBytes"/>; <see langword="null"/> leaves it unchanged.
    /// At least <see cref="MinimumMaxFileSizeBytes"/>.
    /// </summary>
    /// <remarks>
    /// The limit also applies to the memfd through which the .NET runtime double-maps JIT-compiled code (W^X): the
    /// runtime sizes that memfd to the limit, so a small limit is a small code space (1 MiB does not even load
    /// System.Private.CoreLib).
    /// </remarks>
    public long? MaxFileSizeBytes { get; set; } = DefaultMaxFileSizeBytes;

    /// <summary>
    /// The .NET GC heap hard limit (<c>DOTNET_GCHeapHardLimit</c>). An allocation past it throws
    /// <see cref="OutOfMemoryException"/>, and the sandboxed worker then fails fast, so it dies alone and its
    /// supervisor restarts it. Default <see cref="DefaultMaxGcHeapBytes"/>; <see langword="null"/> sets no limit.
    /// </summary>
    public long? MaxGcHeapBytes { get; set; } = DefaultMaxGcHeapBytes;

    /// <summary>
    /// <c>RLIMIT_DATA</c>: the worker's total private writable memory — the GC heap, native allocations
    /// (<c>malloc</c>, <c>NativeMemory</c>, anonymous <c>mmap</c>), thread stacks and the runtime's own data. An
    /// allocation past it fails (<see cref="OutOfMemoryException"/> in .NET, on which the sandboxed worker fails fast),
    /// so the worker dies alone and its supervisor restarts it. Default <see cref="DefaultMaxDataBytes"/>;
    /// <see langword="null"/> leaves it unchanged.
    /// </summary>
    /// <remarks>
    /// At least <see cref="MinimumMaxDataBytes"/>, and when <see cref="MaxGcHeapBytes"/> is set at least
    /// <see cref="MinimumDataAboveGcHeapBytes"/> above it, so that the GC heap fits below it. The GC's reservations of
    /// address space (<c>PROT_NONE</c>) do not count, only what it commits; <c>RLIMIT_AS</c> would count them.
    /// </remarks>
    public long? MaxDataBytes { get; set; } = DefaultMaxDataBytes;

    /// <summary>
    /// The host user IDs a supervisor running as root gives its workers, one per live worker (see
    /// <see cref="SandboxUserIdRange"/>). Set <see cref="SandboxUserIdRange.Count"/> to 0 to run every worker as the
    /// supervisor's user. Ignored when <see cref="RunAsUserId"/> is set.
    /// </summary>
    public SandboxUserIdRange UserIdRange { get; } = new();

    /// <summary>
    /// A cgroup v2 directory delegated to this supervisor, with the memory controller enabled for its children
    /// (layer <see cref="SandboxLayers.MemoryCgroup"/>). Each worker gets a child cgroup there. Default
    /// <see langword="null"/>.
    /// </summary>
    public string? MemoryCgroupParent { get; set; }

    /// <summary>
    /// The cgroup <c>memory.max</c> of the worker, for <see cref="SandboxLayers.MemoryCgroup"/>. Default
    /// <see langword="null"/>: twice <see cref="MaxGcHeapBytes"/> (the GC heap is not all of a process's memory).
    /// </summary>
    public long? MaxMemoryBytes { get; set; }

    /// <summary>
    /// Extra files or directories the worker may read: bound read-only into its private root, and allowed by Landlock.
    /// Existing absolute paths, without <c>..</c>, not <c>/</c>. Default: none.
    /// </summary>
    public IList<string> ReadOnlyPaths { get; } = new List<string>();

    /// <summary>
    /// Extra files or directories the worker may read and write: bound read-write into its private root, and allowed
    /// by Landlock. Existing absolute paths, without <c>..</c>, not <c>/</c>. Default: none.
    /// </summary>
    public IList<string> ReadWritePaths { get; } = new List<string>();

    /// <summary>
    /// The size of the tmpfs that holds the worker's private directory in its private root
    /// (<see cref="SandboxLayers.PrivateRoot"/>): past it, writes fail with <c>ENOSPC</c>. The tmpfs is memory, gone
    /// when the worker exits. Default <see cref="DefaultMaxDiskBytes"/>; <see langword="null"/>: the kernel's default
    /// (half of the machine's memory).
    /// </summary>
    public long? MaxDiskBytes { get; set; } = DefaultMaxDiskBytes;

    /// <summary>
    /// Whether seccomp lets the worker call <c>connect</c>. Default <see langword="false"/>: a sandboxed worker gets its
    /// connection to the supervisor before it is confined and never connects afterwards, so no socket it can name
    /// (a pathname or abstract UNIX socket of the host) can be reached. Set it for a worker that calls
    /// <c>IpcSender&lt;T&gt;.Connect</c> itself. <see cref="AllowInternetSockets"/> allows <c>connect</c> too (the
    /// filter cannot tell a TCP socket's connect from an AF_UNIX one's).
    /// </summary>
    public bool AllowUnixConnect { get; set; }

    /// <summary>TCP ports the worker may connect to (Landlock ABI 4+; needs <see cref="AllowInternetSockets"/> under seccomp). Default: none.</summary>
    public IList<int> AllowedTcpConnectPorts { get; } = new List<int>();

    /// <summary>TCP ports the worker may bind (Landlock ABI 4+; needs <see cref="AllowInternetSockets"/> under seccomp). Default: none.</summary>
    public IList<int> AllowedTcpBindPorts { get; } = new List<int>();

    /// <summary>What a denied system call does. Default <see cref="SeccompDenyAction.Errno"/> (EPERM).</summary>
    public SeccompDenyAction SeccompDenyAction { get; set; } = SeccompDenyAction.Errno;

    /// <summary>
    /// Whether seccomp lets the worker create sockets of families other than AF_UNIX. Default <see langword="false"/>.
    /// </summary>
    public bool AllowInternetSockets { get; set; }

    /// <summary>
    /// Whether seccomp lets the worker create processes: <c>fork</c>, <c>vfork</c> and <c>clone</c> without
    /// <c>CLONE_THREAD</c> (threads are always allowed). Default <see langword="false"/>: a worker cannot exec
    /// anyway, and <see cref="MaxProcesses"/> does not stop a fork bomb of a worker that is real root (a root
    /// supervisor whose workers share its user), so the filter does.
    /// </summary>
    public bool AllowProcessCreation { get; set; }

    /// <summary>The namespaces besides the user namespace. Default <see cref="SandboxNamespaces.All"/>.</summary>
    public SandboxNamespaces Namespaces { get; set; } = SandboxNamespaces.All;

    /// <summary>
    /// Runs the worker as this user ID (through setpriv(1), before any namespace is made), so that it is not root on
    /// the host and <see cref="MaxProcesses"/> holds. Default <see langword="null"/>: a user of its own from
    /// <see cref="UserIdRange"/> where the launcher assigns one, else the launcher's. Needs <see cref="RunAsGroupId"/>
    /// too, and a launcher allowed to change user (root).
    /// </summary>
    /// <remarks>
    /// For launchers that call <see cref="SandboxLauncher"/> themselves. The supervisor refuses it: every incarnation
    /// and standby of a worker would share the one user, which <see cref="UserIdRange"/> avoids.
    /// </remarks>
    public int? RunAsUserId { get; set; }

    /// <summary>The group ID that goes with <see cref="RunAsUserId"/>. Default <see langword="null"/>.</summary>
    public int? RunAsGroupId { get; set; }

    /// <summary>Checks the options against each other.</summary>
    /// <returns>The problems found; empty when the options are usable.</returns>
    internal List<string> Validate()
    {
        var problems = new List<string>();
        if (!Enabled)
        {
            return problems;
        }

        bool landlock = (Layers & SandboxLayers.Landlock) != 0;
        bool seccomp = (Layers & SandboxLayers.Seccomp) != 0;
        if ((landlock || seccomp) && (Layers & SandboxLayers.NoNewPrivileges) == 0)
        {
            problems.Add("Landlock and seccomp need the NoNewPrivileges layer (an unprivileged process can only install them with no_new_privs set).");
        }

        if (RunAsUserId.HasValue != RunAsGroupId.HasValue)
        {
            problems.Add("RunAsUserId and RunAsGroupId must be set together.");
        }

        if (RunAsUserId is < 0 || RunAsGroupId is < 0)
        {
            problems.Add("RunAsUserId and RunAsGroupId must not be negative.");
        }

        if (WorkerDirectoryRoot is not null && !Path.IsPathFullyQualified(WorkerDirectoryRoot))
        {
            problems.Add($"WorkerDirectoryRoot must be an absolute path: '{WorkerDirectoryRoot}'.");
        }

        if (MemoryCgroupParent is not null && !Path.IsPathFullyQualified(MemoryCgroupParent))
        {
            problems.Add($"MemoryCgroupParent must be an absolute path: '{MemoryCgroupParent}'.");
        }

        if ((Layers & SandboxLayers.MemoryCgroup) != 0 && MemoryCgroupParent is null)
        {
            problems.Add("The MemoryCgroup layer needs MemoryCgroupParent (a delegated cgroup v2 directory).");
        }

        CheckPaths(ReadOnlyPaths, nameof(ReadOnlyPaths), problems);
        CheckPaths(ReadWritePaths, nameof(ReadWritePaths), problems);

        foreach (int port in AllowedTcpConnectPorts)
        {
            if (port is < 0 or > 65535)
            {
                problems.Add($"AllowedTcpConnectPorts: {port} is not a port.");
            }
        }

        foreach (int port in AllowedTcpBindPorts)
        {
            if (port is < 0 or > 65535)
            {
                problems.Add($"AllowedTcpBindPorts: {port} is not a port.");
            }
        }

        if (seccomp && !AllowInternetSockets && (AllowedTcpConnectPorts.Count > 0 || AllowedTcpBindPorts.Count > 0))
        {
            problems.Add("AllowedTcpConnectPorts/AllowedTcpBindPorts need AllowInternetSockets: the seccomp filter otherwise refuses to create the socket.");
        }

        foreach (int fd in InheritedFileDescriptors)
        {
            if (fd < 3)
            {
                problems.Add($"InheritedFileDescriptors: {fd} is not above 2 (0-2 are always kept).");
            }
        }

        CheckPositive(MaxOpenFiles, nameof(MaxOpenFiles), problems);
        CheckPositive(MaxProcesses, nameof(MaxProcesses), problems);
        if (MaxFileSizeBytes is < MinimumMaxFileSizeBytes)
        {
            problems.Add($"MaxFileSizeBytes must be at least {MinimumMaxFileSizeBytes} (16 MiB): RLIMIT_FSIZE also caps the memfd the .NET runtime maps JIT-compiled code through.");
        }

        CheckPositive(MaxGcHeapBytes, nameof(MaxGcHeapBytes), problems);
        CheckPositive(MaxMemoryBytes, nameof(MaxMemoryBytes), problems);
        if (MaxDataBytes is < MinimumMaxDataBytes)
        {
            problems.Add($"MaxDataBytes must be at least {MinimumMaxDataBytes} (128 MiB): the .NET runtime needs that much to start.");
        }
        else if (MaxDataBytes is long data && MaxGcHeapBytes is long heap && data < heap + MinimumDataAboveGcHeapBytes)
        {
            problems.Add($"MaxDataBytes ({data}) must be at least MaxGcHeapBytes ({heap}) + {MinimumDataAboveGcHeapBytes} (64 MiB): RLIMIT_DATA also counts the GC heap, which must fit below it.");
        }

        UserIdRange.Validate(problems);

        CheckPositive(MaxDiskBytes, nameof(MaxDiskBytes), problems);
        return problems;
    }

    /// <summary>
    /// An extra path must name one existing place: absolute, without <c>.</c> or <c>..</c> segments (which would make
    /// the path checked here differ from the one bound), and not the root (which would hand the worker the host's
    /// whole tree).
    /// </summary>
    private static void CheckPaths(IList<string> paths, string name, List<string> problems)
    {
        foreach (string path in paths)
        {
            if (!Path.IsPathFullyQualified(path))
            {
                problems.Add($"{name} must be absolute: '{path}'.");
            }
            else if (Array.Exists(path.Split('/'), segment => segment is "." or ".."))
            {
                problems.Add($"{name} must not contain '.' or '..' segments: '{path}'.");
            }
            else if (path.Trim('/').Length == 0)
            {
                problems.Add($"{name} must not be the root directory '/': that would give the worker the whole file system.");
            }
            else if (!Directory.Exists(path) && !File.Exists(path))
            {
                problems.Add($"{name} must exist: '{path}' does not.");
            }
        }
    }

    private static void CheckPositive(long? value, string name, List<string> problems)
    {
        if (value is <= 0)
        {
            problems.Add($"{name} must be positive (or null for no limit).");
        }
    }
}
