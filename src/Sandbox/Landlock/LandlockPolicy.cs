using System;
using System.Diagnostics.CodeAnalysis;
using System.Collections.Generic;
using System.IO;
using static IpcChannel.Supervisor.Sandbox.Interop.Landlock;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// What a sandboxed worker may touch, and its enforcement on the calling thread. Computed inside the worker, because
/// the app and runtime directories are the worker's own (the worker may be another executable than the supervisor).
/// </summary>
internal static class LandlockPolicy
{
    /// <summary>The highest ABI this code knows the rights of; newer kernels are used at this level.</summary>
    internal const int HighestKnownAbi = 7;

    /// <summary>
    /// System paths the .NET runtime and the dynamic loader read (found with strace; see docs/sandbox.md). Missing
    /// ones are skipped (for example /lib64 on arm64).
    /// </summary>
    internal static readonly string[] SystemReadOnlyPaths =
    [
        "/etc/ld.so.cache",
        "/lib",
        "/lib64",
        "/usr/lib",
        "/usr/lib64",
        "/sys/fs/cgroup",
        "/sys/devices/system/cpu",
        "/sys/devices/system/node",
        "/proc/self",
        "/proc/meminfo",
        "/dev/zero",
        "/dev/urandom",
        "/dev/random",
    ];

    /// <summary>Devices a worker may write.</summary>
    internal static readonly string[] DeviceReadWritePaths = ["/dev/null"];

    /// <summary>The paths (and rights) a worker is given.</summary>
    /// <param name="config">The stage configuration.</param>
    /// <param name="executable">The program stage 1 re-executes.</param>
    /// <returns>Path and rights pairs, in order.</returns>
    public static List<(string Path, ulong Access)> Rules(StageConfig config, string executable)
    {
        var rules = new List<(string, ulong)>();
        foreach (string path in RuntimeReadOnlyPaths())
        {
            rules.Add((path, LandlockRuleset.ReadRights));
        }

        foreach (string path in SystemReadOnlyPaths)
        {
            rules.Add((path, LandlockRuleset.ReadRights));
        }

        foreach (string path in config.ReadOnlyPaths)
        {
            rules.Add((path, LandlockRuleset.ReadRights));
        }

        foreach (string path in DeviceReadWritePaths)
        {
            rules.Add((path, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE));
        }

        // execve of the real worker: the program and its ELF interpreter are opened for execution.
        rules.Add((executable, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE));
        string? interpreter = ElfInterpreter.Find(executable);
        if (interpreter is not null)
        {
            rules.Add((interpreter, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE));
        }

        rules.Add((config.WorkerDirectory, LandlockRuleset.ReadWriteRights));
        foreach (string path in config.ReadWritePaths)
        {
            rules.Add((path, LandlockRuleset.ReadWriteRights));
        }

        return rules;
    }

    /// <summary>Builds the ruleset and enforces it on the calling thread.</summary>
    /// <param name="config">The stage configuration.</param>
    /// <param name="executable">The program stage 1 re-executes.</param>
    /// <param name="abi">The ABI to use (already capped).</param>
    /// <param name="layers">The Landlock layers to apply.</param>
    /// <exception cref="SandboxException">A rule or the enforcement failed.</exception>
    public static void Apply(StageConfig config, string executable, int abi, SandboxLayers layers)
    {
        bool filesystem = (layers & SandboxLayers.LandlockFilesystem) != 0;
        bool network = (layers & SandboxLayers.LandlockNetwork) != 0;
        bool scopes = (layers & SandboxLayers.LandlockScopes) != 0;
        using LandlockRuleset ruleset = LandlockRuleset.Create(abi, filesystem, network, scopes);
        if ((layers & SandboxLayers.LandlockFilesystem) != 0)
        {
            foreach ((string path, ulong access) in Rules(config, executable))
            {
                ruleset.AllowPath(path, access);
            }
        }

        foreach (int port in config.TcpConnectPorts)
        {
            ruleset.AllowPort(port, LANDLOCK_ACCESS_NET_CONNECT_TCP);
        }

        foreach (int port in config.TcpBindPorts)
        {
            ruleset.AllowPort(port, LANDLOCK_ACCESS_NET_BIND_TCP);
        }

        ruleset.RestrictSelf();
    }

    [UnconditionalSuppressMessage("SingleFile", "IL3000:Avoid accessing Assembly file path when publishing as a single file",
        Justification = "The empty path of a single-file or NativeAOT app is handled: only the app directory is added then.")]
    private static string CoreLibLocation() => typeof(object).Assembly.Location;

    /// <summary>The app directory, the runtime directory and the dotnet root (host, fxr, shared frameworks).</summary>
    /// <returns>The directories.</returns>
    internal static IEnumerable<string> RuntimeReadOnlyPaths()
    {
        yield return AppContext.BaseDirectory;
        // CoreLib's directory is the runtime directory (RuntimeEnvironment.GetRuntimeDirectory() would load another assembly).
        // In a single-file or NativeAOT app CoreLib has no file: the runtime is inside the app, whose directory is above.
        string coreLib = CoreLibLocation();
        if (coreLib.Length == 0)
        {
            yield break;
        }

        string runtime = Path.GetDirectoryName(coreLib) + "/";
        yield return runtime;

        // <root>/shared/Microsoft.NETCore.App/<version>/ : the root holds the host (dotnet, host/fxr) and every framework.
        DirectoryInfo? version = new DirectoryInfo(runtime.TrimEnd('/'));
        DirectoryInfo? root = version.Parent?.Parent?.Parent;
        if (root is not null && version.Parent?.Parent?.Name == "shared")
        {
            yield return root.FullName;
        }
    }
}
