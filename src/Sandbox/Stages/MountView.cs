using System.Collections.Generic;
using System.IO;
using static IpcChannel.Supervisor.Sandbox.Interop.MountFlags;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Turns the worker's private mount namespace into a read-only view of the whole tree, except its own directory
/// (and any extra read-write paths). Runs in stage 1, where the process is root of its user namespace.
/// </summary>
internal static class MountView
{
    /// <summary>Remounts everything read-only but <paramref name="writable"/>.</summary>
    /// <param name="workerDirectory">The worker's directory, which becomes the working directory again.</param>
    /// <param name="writable">Directories that stay writable (the worker directory first).</param>
    /// <exception cref="SandboxException">A mount call failed.</exception>
    public static unsafe void MakeReadOnly(string workerDirectory, IReadOnlyList<string> writable)
    {
        var directories = new List<string>();
        foreach (string path in writable)
        {
            if (Directory.Exists(path))
            {
                directories.Add(path);
            }
        }

        // Each writable directory becomes a mount of its own, so that its flag can differ from its parent's.
        foreach (string directory in directories)
        {
            if (Interop.Mount(directory, directory, null, MS_BIND | MS_REC, 0) != 0)
            {
                throw Errors.Last(SandboxLayers.Namespaces, $"mount --rbind {directory}");
            }
        }

        SetAttributes("/", MOUNT_ATTR_RDONLY, 0, SandboxLayers.Namespaces);
        foreach (string directory in directories)
        {
            SetAttributes(directory, 0, MOUNT_ATTR_RDONLY, SandboxLayers.Namespaces);
        }

        // The working directory still points into the mount below the new bind mount; enter the new one.
        if (Interop.Chdir(workerDirectory) != 0)
        {
            throw Errors.Last(SandboxLayers.Namespaces, $"chdir({workerDirectory})");
        }
    }

    /// <summary>Sets and clears <c>MOUNT_ATTR_*</c> flags on the mount at <paramref name="path"/> and every mount below it.</summary>
    /// <param name="path">The mount point.</param>
    /// <param name="set">The flags to set.</param>
    /// <param name="clear">The flags to clear.</param>
    /// <param name="layer">The layer to name when it fails.</param>
    /// <exception cref="SandboxException">mount_setattr failed.</exception>
    internal static unsafe void SetAttributes(string path, ulong set, ulong clear, SandboxLayers layer)
    {
        var attr = new mount_attr { attr_set = set, attr_clr = clear };
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pathBytes = bytes)
        {
            long result = Interop.Syscall(SYS_mount_setattr, Interop.AT_FDCWD, (nint)pathBytes, (nint)Interop.AT_RECURSIVE, (nint)(&attr), MOUNT_ATTR_SIZE_VER0, 0);
            if (result != 0)
            {
                throw Errors.Last(layer, $"mount_setattr({path}, {(set != 0 ? "set" : "clear")} 0x{set | clear:x})");
            }
        }
    }
}
