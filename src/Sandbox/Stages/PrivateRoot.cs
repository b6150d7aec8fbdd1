using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using static IpcChannel.Supervisor.Sandbox.Interop.MountFlags;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Gives the worker a root file system built from nothing (the way bubblewrap does): an empty tmpfs holding read-only
/// binds of only what the worker needs, four device nodes, its own <c>/proc</c> and its private directory on a
/// size-capped tmpfs; then <c>pivot_root</c> into it and the host's tree is detached. Runs in stage 1, as root of the
/// worker's user namespace, inside its mount namespace.
/// </summary>
internal static class PrivateRoot
{
    /// <summary>The device nodes a worker gets (bound from the host's <c>/dev</c>).</summary>
    internal static readonly string[] Devices = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"];

    /// <summary>The size of the tmpfs that holds the root's directories and mount points (nothing else is written there).</summary>
    private const string RootTmpfsOptions = "mode=0755,size=1m,nr_inodes=4096";

    /// <summary>What the worker is given to read, besides <see cref="StageConfig.ReadOnlyPaths"/>.</summary>
    /// <param name="executable">The program stage 1 re-executes.</param>
    /// <returns>The app and runtime directories, the executable and its ELF interpreter, the loader's and runtime's system files, the devices.</returns>
    internal static List<string> SystemPaths(string executable)
    {
        var paths = new List<string>(LandlockPolicy.RuntimeReadOnlyPaths());
        paths.Add(executable);
        if (ElfInterpreter.Find(executable) is { } interpreter)
        {
            paths.Add(interpreter);
        }

        foreach (string path in LandlockPolicy.SystemReadOnlyPaths)
        {
            // /proc is mounted whole (the worker's own), and the devices are bound one by one below.
            if (!path.StartsWith("/proc/", StringComparison.Ordinal) && !path.StartsWith("/dev/", StringComparison.Ordinal))
            {
                paths.Add(path);
            }
        }

        paths.AddRange(Devices);
        return paths;
    }

    /// <summary>Builds the root and enters it; the working directory becomes the worker directory.</summary>
    /// <param name="config">The stage configuration.</param>
    /// <param name="executable">The program stage 1 re-executes.</param>
    /// <returns>False when the first mount was refused and <see cref="SandboxLayers.PrivateRoot"/> may be missing (nothing was changed).</returns>
    /// <exception cref="SandboxException">A mount failed.</exception>
    public static bool Enter(StageConfig config, string executable)
    {
        var readOnly = SystemPaths(executable);
        readOnly.AddRange(config.ReadOnlyPaths);
        RootLayout layout = RootLayout.Plan(readOnly, config.ReadWritePaths);

        // No mount or unmount below may propagate to the namespace unshare copied this one from.
        if (Interop.Mount(null, "/", null, MS_REC | MS_PRIVATE, 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if ((config.AllowMissing & SandboxLayers.PrivateRoot) != 0)
            {
                FirstStage.Warn($"running without sandbox layer PrivateRoot: the worker may not change its mounts ({Errors.Name(errno)}), as configured.");
                return false;
            }

            throw Errors.ForErrno(SandboxLayers.PrivateRoot, "mount --make-rprivate /", errno);
        }

        // The new root is staged on the worker directory's path: it exists, it is ours, and the pivot hides it.
        string root = config.WorkerDirectory.TrimEnd('/');
        MountTmpfs(root, RootTmpfsOptions);
        foreach (RootLayout.Bind bind in layout.Binds)
        {
            string target = root + bind.Path;
            CreateMountPoint(target, bind.IsDirectory);
            Check(Interop.Mount(bind.Path, target, null, MS_BIND | MS_REC, 0), $"mount --rbind {bind.Path}");
        }

        foreach (RootLayout.Link link in layout.Links)
        {
            string location = root + link.Location;
            Directory.CreateDirectory(Path.GetDirectoryName(location)!);
            File.CreateSymbolicLink(location, link.Target);
        }

        Directory.CreateDirectory(root + "/proc");
        if ((config.Namespaces & SandboxNamespaces.Pid) != 0)
        {
            // The worker's own PID namespace: it sees its own processes only.
            Check(Interop.Mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0), "mount -t proc");
        }
        else
        {
            Check(Interop.Mount("/proc", root + "/proc", null, MS_BIND | MS_REC, 0), "mount --rbind /proc");
        }

        string workerDirectory = root + root;
        Directory.CreateDirectory(workerDirectory);
        // The inode count is capped with the size (one per 16 KiB, at least 1024): empty files cost no blocks, but each
        // inode is kernel memory, which a size cap alone would leave unbounded.
        string size = config.MaxDiskBytes is long bytes
            ? string.Create(CultureInfo.InvariantCulture, $",size={bytes},nr_inodes={Math.Max(1024, bytes / (16 * 1024))}")
            : "";
        MountTmpfs(workerDirectory, "mode=0700" + size);

        Pivot(root);
        Seal(layout, root);
        Check(Interop.Chdir(root), $"chdir({root})");
        return true;
    }

    /// <summary>Makes <paramref name="root"/> the root and detaches the old one (pivot_root(2)'s own recipe).</summary>
    private static void Pivot(string root)
    {
        long pivotRoot = RuntimeInformation.ProcessArchitecture == Architecture.Arm64
            ? Interop.SyscallNumbers.Arm64.pivot_root
            : Interop.SyscallNumbers.X64.pivot_root;
        Check(Interop.Chdir(root), $"chdir({root})");

        // new_root and put_old both ".": the old root ends up stacked on the new one, and unmounting "." removes it.
        byte[] dot = ".\0"u8.ToArray();
        unsafe
        {
            fixed (byte* path = dot)
            {
                Check((int)Interop.Syscall(pivotRoot, (nint)path, (nint)path, 0), "pivot_root(., .)");
            }
        }

        Check(Interop.Umount2(".", MNT_DETACH), "umount2(old root, MNT_DETACH)");
        Check(Interop.Chdir("/"), "chdir(/)");
    }

    /// <summary>Everything read-only and nosuid, then the worker directory and the read-write paths writable again.</summary>
    private static void Seal(RootLayout layout, string workerDirectory)
    {
        MountView.SetAttributes("/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, SandboxLayers.PrivateRoot);
        MountView.SetAttributes(workerDirectory, 0, MOUNT_ATTR_RDONLY, SandboxLayers.PrivateRoot);

        // Parents come before the paths inside them, so a read-only path inside a read-write one ends up read-only.
        foreach (RootLayout.Bind bind in layout.Binds)
        {
            bool insideWritable = false;
            foreach (RootLayout.Bind other in layout.Binds)
            {
                insideWritable |= other.Writable && other != bind && RootLayout.IsWithin(bind.Path, other.Path);
            }

            if (bind.Writable)
            {
                MountView.SetAttributes(bind.Path, 0, MOUNT_ATTR_RDONLY, SandboxLayers.PrivateRoot);
            }
            else if (insideWritable)
            {
                MountView.SetAttributes(bind.Path, MOUNT_ATTR_RDONLY, 0, SandboxLayers.PrivateRoot);
            }
        }
    }

    private static void MountTmpfs(string target, string options) =>
        Check(Interop.Mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options), $"mount -t tmpfs -o {options} {target}");

    /// <summary>An empty directory, or an empty file for a file or device node, in the new root's tmpfs.</summary>
    private static void CreateMountPoint(string target, bool directory)
    {
        if (directory)
        {
            Directory.CreateDirectory(target);
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (!File.Exists(target))
        {
            File.Create(target).Dispose();
        }
    }

    private static void Check(int result, string operation)
    {
        if (result != 0)
        {
            throw Errors.Last(SandboxLayers.PrivateRoot, operation);
        }
    }
}
