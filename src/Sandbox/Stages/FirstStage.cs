using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Stage 1: runs at the very start of the worker's Main, on one thread, before any user code. Applies what must be in
/// place before the real worker's runtime starts its threads, then re-executes the same program, which inherits it all
/// on every thread it will ever have.
/// </summary>
internal static class FirstStage
{
    /// <summary>Applies the pre-exec layers and execs the real worker. Never returns normally.</summary>
    /// <param name="config">The stage configuration.</param>
    /// <exception cref="SandboxException">A layer is missing (and not allowed to be) or failed.</exception>
    public static unsafe void Run(StageConfig config)
    {
        SandboxLayers layers = config.Layers;

        // The machine as the worker sees it (inside its namespaces) decides; the supervisor's plan only predicted it.
        int kernelAbi = LandlockRuleset.GetAbi();
        int abi = Math.Min(kernelAbi, LandlockPolicy.HighestKnownAbi);
        SandboxLayers missing = layers & MissingLandlockLayers(abi);
        if ((missing & ~config.AllowMissing) != 0)
        {
            throw new SandboxException(
                missing & ~config.AllowMissing,
                $"Sandbox layer {LayerNames.Describe(missing & ~config.AllowMissing)} is not available in the worker (Landlock ABI {kernelAbi}); the worker refuses to start.");
        }

        if (missing != 0)
        {
            Warn($"running without sandbox layer {LayerNames.Describe(missing)} (Landlock ABI {kernelAbi}), as configured.");
            layers &= ~missing;
        }

        string executable = Environment.ProcessPath
            ?? throw new SandboxException(SandboxLayers.CleanStart, "Sandbox: the worker's executable path is unknown; stage 1 cannot re-execute it.");

        // The connection to the supervisor first: once the private root is in place its socket is out of sight, and
        // the real worker's seccomp filter refuses connect. It is the one descriptor the real worker inherits unasked.
        using SafeFdHandle? connection = config.ServerVariable is { } serverVariable ? ServerConnection.Connect(serverVariable) : null;

        // Everything execve needs is built before the restrictions.
        byte[][] argv = ReadCommandLine();
        byte[][] envp = BuildEnvironment(config, layers, abi, connection);

        if ((layers & SandboxLayers.ResourceLimits) != 0)
        {
            ResourceLimits.Apply(config);
        }

        if ((layers & SandboxLayers.CleanStart) != 0)
        {
            ResourceLimits.DisableCoreDumps();
        }

        if ((layers & SandboxLayers.MemoryCgroup) != 0 && config.CgroupDirectory is not null)
        {
            MemoryCgroup.Join(config.CgroupDirectory);
        }

        bool mountNamespace = (layers & SandboxLayers.Namespaces) != 0 && (config.Namespaces & SandboxNamespaces.Mount) != 0;
        if ((layers & SandboxLayers.PrivateRoot) != 0)
        {
            // The plan only asks for it with a mount namespace; a worker started without one refuses.
            if (!mountNamespace)
            {
                throw new SandboxException(SandboxLayers.PrivateRoot, "Sandbox layer PrivateRoot needs the Namespaces layer with a mount namespace; the worker refuses to start.");
            }

            RequireChildUserNamespace();
            if (!PrivateRoot.Enter(config, executable))
            {
                layers &= ~SandboxLayers.PrivateRoot;
                envp = BuildEnvironment(config, layers, abi, connection);
            }
        }
        else if (mountNamespace)
        {
            RequireChildUserNamespace();
            var writable = new List<string> { config.WorkerDirectory };
            writable.AddRange(config.ReadWritePaths);
            MountView.MakeReadOnly(config.WorkerDirectory, writable);
        }

        if ((layers & SandboxLayers.CleanStart) != 0)
        {
            FileDescriptors.MarkCloseOnExec(config.InheritedFileDescriptors);
        }

        if (connection is not null)
        {
            ServerConnection.Inherit(connection);
        }

        if ((layers & SandboxLayers.NoNewPrivileges) != 0 && Interop.Prctl(Interop.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        {
            throw Errors.Last(SandboxLayers.NoNewPrivileges, "prctl(PR_SET_NO_NEW_PRIVS)");
        }

        if ((layers & SandboxLayers.Landlock) != 0)
        {
            // On this (the calling) thread only; the execve below carries it to the whole real worker.
            LandlockPolicy.Apply(config, executable, abi, layers & SandboxLayers.Landlock);
        }

        if ((layers & SandboxLayers.CleanStart) != 0)
        {
            Capabilities.DropAll();
        }

        Exec(executable, argv, envp);
    }

    /// <summary>
    /// The read-only view must only ever be built inside the namespaces the launcher made: run by mistake in the
    /// host's namespaces, as root, it would remount the host read-only. Inside a child user namespace the kernel
    /// itself forbids touching mounts the namespace does not own, so that is what is checked.
    /// </summary>
    /// <exception cref="SandboxException">The process is in the initial user namespace.</exception>
    private static void RequireChildUserNamespace()
    {
        foreach (string line in File.ReadAllLines("/proc/self/uid_map"))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is ["0", "0", "4294967295"])
            {
                throw new SandboxException(
                    SandboxLayers.Namespaces,
                    "Sandbox layer Namespaces: the worker is not in a user namespace of its own; it must be started with the prefix SandboxLauncher.Plan returned.");
            }
        }
    }

    /// <summary>Writes a warning to stderr; a method of its own so that System.Console is loaded only when it is called.</summary>
    /// <param name="message">The warning.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static void Warn(string message) => Console.Error.WriteLine("ipcchannel-sandbox: warning: " + message);

    /// <summary>The Landlock layers an ABI cannot provide.</summary>
    /// <param name="abi">The ABI (0 for none).</param>
    /// <returns>The layers that are missing.</returns>
    internal static SandboxLayers MissingLandlockLayers(int abi)
    {
        SandboxLayers missing = SandboxLayers.None;
        if (abi < 1)
        {
            missing |= SandboxLayers.LandlockFilesystem;
        }

        if (abi < 4)
        {
            missing |= SandboxLayers.LandlockNetwork;
        }

        if (abi < 6)
        {
            missing |= SandboxLayers.LandlockScopes;
        }

        return missing;
    }

    /// <summary>The process's original argv, byte for byte (/proc/self/cmdline).</summary>
    private static byte[][] ReadCommandLine()
    {
        byte[] cmdline = File.ReadAllBytes("/proc/self/cmdline");
        var args = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < cmdline.Length; i++)
        {
            if (cmdline[i] == 0)
            {
                args.Add(cmdline[start..(i + 1)]);
                start = i + 1;
            }
        }

        if (args.Count == 0)
        {
            throw new SandboxException(SandboxLayers.CleanStart, "Sandbox: /proc/self/cmdline is empty; stage 1 cannot re-execute the worker.");
        }

        return args.ToArray();
    }

    /// <summary>The real worker's environment: the allowed names only (under CleanStart), and the stage-2 marker.</summary>
    private static byte[][] BuildEnvironment(StageConfig config, SandboxLayers applied, int abi, SafeFdHandle? connection)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if ((applied & SandboxLayers.CleanStart) != 0)
        {
            foreach (string name in config.Environment)
            {
                string? value = Environment.GetEnvironmentVariable(name);
                if (value is not null)
                {
                    variables[name] = value;
                }
            }
        }
        else
        {
            foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            {
                variables[(string)entry.Key] = (string?)entry.Value ?? "";
            }
        }

        variables[StageProtocol.ConfigVariable] = Environment.GetEnvironmentVariable(StageProtocol.ConfigVariable) ?? "";
        variables[StageProtocol.StageVariable] = StageProtocol.SecondStage(applied, (applied & SandboxLayers.Landlock) != 0 ? abi : 0);
        variables.Remove(StageProtocol.ConnectionVariable);
        if (connection is not null)
        {
            variables[StageProtocol.ConnectionVariable] = ((int)connection.DangerousGetHandle()).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var envp = new byte[variables.Count][];
        int i = 0;
        foreach ((string name, string value) in variables)
        {
            envp[i++] = Encoding.UTF8.GetBytes(name + "=" + value + "\0");
        }

        return envp;
    }

    private static unsafe void Exec(string executable, byte[][] argv, byte[][] envp)
    {
        byte[] path = Encoding.UTF8.GetBytes(executable + "\0");
        var handles = new List<GCHandle>(argv.Length + envp.Length);
        byte** argvPointers = (byte**)NativeMemory.AllocZeroed((nuint)(argv.Length + 1), (nuint)sizeof(byte*));
        byte** envpPointers = (byte**)NativeMemory.AllocZeroed((nuint)(envp.Length + 1), (nuint)sizeof(byte*));
        try
        {
            Pin(argv, argvPointers, handles);
            Pin(envp, envpPointers, handles);
            fixed (byte* pathBytes = path)
            {
                Interop.Execve(pathBytes, argvPointers, envpPointers);
                throw Errors.Last(SandboxLayers.CleanStart, $"execve({executable}) of the real worker");
            }
        }
        finally
        {
            NativeMemory.Free(argvPointers);
            NativeMemory.Free(envpPointers);
            foreach (GCHandle handle in handles)
            {
                handle.Free();
            }
        }
    }

    /// <summary>Pins each string and stores its address; the array's last slot stays null.</summary>
    private static unsafe void Pin(byte[][] strings, byte** pointers, List<GCHandle> handles)
    {
        for (int i = 0; i < strings.Length; i++)
        {
            GCHandle handle = GCHandle.Alloc(strings[i], GCHandleType.Pinned);
            handles.Add(handle);
            pointers[i] = (byte*)handle.AddrOfPinnedObject();
        }
    }
}
