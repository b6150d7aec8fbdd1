using System;
using System.IO;
using static IpcChannel.Supervisor.Sandbox.Interop.Landlock;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>A Landlock ruleset being built, then enforced on the calling thread (and what it executes).</summary>
internal sealed class LandlockRuleset : IDisposable
{
    /// <summary>The access rights that apply to a file (not a directory); a path-beneath rule on a file may hold only these.</summary>
    internal const ulong FileRights =
        LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE
        | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV;

    /// <summary>Read a file or list a directory.</summary>
    internal const ulong ReadRights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

    /// <summary>Everything a private directory needs, but executing, device nodes and device ioctls.</summary>
    internal const ulong ReadWriteRights =
        ReadRights | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE
        | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK
        | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE;

    private readonly SafeFdHandle _ruleset;

    private LandlockRuleset(SafeFdHandle ruleset, int abi, ulong handledFs, ulong handledNet, ulong scoped)
    {
        _ruleset = ruleset;
        Abi = abi;
        HandledFilesystem = handledFs;
        HandledNetwork = handledNet;
        Scoped = scoped;
    }

    /// <summary>The ABI the ruleset was made for.</summary>
    public int Abi { get; }

    /// <summary>The filesystem rights this ruleset denies unless a rule allows them.</summary>
    public ulong HandledFilesystem { get; }

    /// <summary>The network rights this ruleset denies unless a rule allows them.</summary>
    public ulong HandledNetwork { get; }

    /// <summary>The scopes this ruleset confines.</summary>
    public ulong Scoped { get; }

    /// <summary>The highest Landlock ABI this kernel offers, or 0 without Landlock.</summary>
    /// <returns>The ABI version.</returns>
    public static int GetAbi()
    {
        long abi = Interop.Syscall(SYS_landlock_create_ruleset, 0, 0, (nint)LANDLOCK_CREATE_RULESET_VERSION);
        return abi < 0 ? 0 : (int)abi;
    }

    /// <summary>The filesystem rights an ABI knows.</summary>
    /// <param name="abi">The ABI version.</param>
    /// <returns>The mask of every right the ABI can handle.</returns>
    public static ulong FilesystemRightsFor(int abi)
    {
        if (abi < 1)
        {
            return 0;
        }

        ulong rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; // ABI 1: bits 0-12
        if (abi >= 2)
        {
            rights |= LANDLOCK_ACCESS_FS_REFER;
        }

        if (abi >= 3)
        {
            rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
        }

        if (abi >= 5)
        {
            rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        }

        return rights;
    }

    /// <summary>Creates a ruleset that handles every right of <paramref name="abi"/> in the requested categories.</summary>
    /// <param name="abi">The ABI to build for (the kernel's, capped at what this code knows).</param>
    /// <param name="filesystem">Whether to handle filesystem rights.</param>
    /// <param name="network">Whether to handle TCP bind/connect (ABI 4+).</param>
    /// <param name="scopes">Whether to confine abstract UNIX sockets and signals (ABI 6+).</param>
    /// <returns>The ruleset.</returns>
    /// <exception cref="SandboxException">The kernel refused.</exception>
    public static unsafe LandlockRuleset Create(int abi, bool filesystem, bool network, bool scopes)
    {
        var attr = new landlock_ruleset_attr
        {
            handled_access_fs = filesystem ? FilesystemRightsFor(abi) : 0,
            handled_access_net = network && abi >= 4 ? LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP : 0,
            scoped = scopes && abi >= 6 ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL : 0,
        };

        // Pass only the fields the ABI knows: the kernel rejects non-zero bytes beyond its own struct size, and an
        // older kernel does not know the newer fields.
        int size = abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
        var handle = new SafeFdHandle();
        long fd = Interop.Syscall(SYS_landlock_create_ruleset, (nint)(&attr), size, 0);
        if (fd < 0)
        {
            SandboxException error = Errors.Last(SandboxLayers.LandlockFilesystem, "landlock_create_ruleset");
            handle.Dispose();
            throw error;
        }

        handle.SetFd(fd);
        return new LandlockRuleset(handle, abi, attr.handled_access_fs, attr.handled_access_net, attr.scoped);
    }

    /// <summary>Allows <paramref name="access"/> beneath a path (or on a file, reduced to file rights).</summary>
    /// <param name="path">An existing file or directory.</param>
    /// <param name="access">The rights; reduced to what the ruleset handles.</param>
    /// <returns>False when the path does not exist (nothing to allow).</returns>
    /// <exception cref="SandboxException">The path could not be opened or the kernel refused the rule.</exception>
    public unsafe bool AllowPath(string path, ulong access)
    {
        bool isDirectory = Directory.Exists(path);
        if (!isDirectory && !File.Exists(path))
        {
            return false;
        }

        ulong allowed = access & HandledFilesystem & (isDirectory ? ulong.MaxValue : FileRights);
        if (allowed == 0)
        {
            return true;
        }

        using var parent = new SafeFdHandle();
        int fd = Interop.Open(path, Interop.O_PATH | Interop.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Errors.Last(SandboxLayers.LandlockFilesystem, $"open(\"{path}\", O_PATH)");
        }

        parent.SetFd(fd);
        bool addedRuleset = false;
        bool addedParent = false;
        try
        {
            _ruleset.DangerousAddRef(ref addedRuleset);
            parent.DangerousAddRef(ref addedParent);
            var rule = new landlock_path_beneath_attr { allowed_access = allowed, parent_fd = (int)parent.DangerousGetHandle() };
            long result = Interop.Syscall(SYS_landlock_add_rule, _ruleset.DangerousGetHandle(), LANDLOCK_RULE_PATH_BENEATH, (nint)(&rule), 0, 0, 0);
            if (result < 0)
            {
                throw Errors.Last(SandboxLayers.LandlockFilesystem, $"landlock_add_rule(\"{path}\")");
            }
        }
        finally
        {
            if (addedParent)
            {
                parent.DangerousRelease();
            }

            if (addedRuleset)
            {
                _ruleset.DangerousRelease();
            }
        }

        return true;
    }

    /// <summary>Allows TCP bind and/or connect on one port (ABI 4+).</summary>
    /// <param name="port">The port.</param>
    /// <param name="access">A combination of <c>LANDLOCK_ACCESS_NET_*</c>.</param>
    /// <exception cref="SandboxException">The kernel refused the rule.</exception>
    public unsafe void AllowPort(int port, ulong access)
    {
        ulong allowed = access & HandledNetwork;
        if (allowed == 0)
        {
            return;
        }

        bool added = false;
        try
        {
            _ruleset.DangerousAddRef(ref added);
            var rule = new landlock_net_port_attr { allowed_access = allowed, port = (ulong)port };
            long result = Interop.Syscall(SYS_landlock_add_rule, _ruleset.DangerousGetHandle(), LANDLOCK_RULE_NET_PORT, (nint)(&rule), 0, 0, 0);
            if (result < 0)
            {
                throw Errors.Last(SandboxLayers.LandlockNetwork, $"landlock_add_rule(port {port})");
            }
        }
        finally
        {
            if (added)
            {
                _ruleset.DangerousRelease();
            }
        }
    }

    /// <summary>Enforces the ruleset on the calling thread; threads it creates and programs it executes inherit it.</summary>
    /// <remarks>
    /// From ABI 7 on, denials are audited by default only until the next execve. Stage 1 restricts itself and then
    /// executes the real worker, whose denials are the ones worth an audit record, so it asks for
    /// <c>LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON</c> (audit must be enabled for records to appear).
    /// </remarks>
    /// <exception cref="SandboxException">The kernel refused (no_new_privs must be set first).</exception>
    public void RestrictSelf()
    {
        nint flags = Abi >= 7 ? (nint)LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;
        bool added = false;
        try
        {
            _ruleset.DangerousAddRef(ref added);
            long result = Interop.Syscall(SYS_landlock_restrict_self, _ruleset.DangerousGetHandle(), flags, 0);
            if (result < 0)
            {
                throw Errors.Last(SandboxLayers.LandlockFilesystem, "landlock_restrict_self");
            }
        }
        finally
        {
            if (added)
            {
                _ruleset.DangerousRelease();
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _ruleset.Dispose();
}
