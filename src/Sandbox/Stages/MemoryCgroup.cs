using System.Globalization;
using System.IO;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>A worker's cgroup v2 directory under a delegated parent, with its <c>memory.max</c>.</summary>
internal static class MemoryCgroup
{
    /// <summary>Whether a cgroup v2 directory can hold children with a memory limit.</summary>
    /// <param name="parent">The delegated directory.</param>
    /// <returns>True when its <c>cgroup.subtree_control</c> enables <c>memory</c> and it is writable.</returns>
    public static bool IsDelegated(string parent)
    {
        try
        {
            string control = Path.Combine(parent, "cgroup.subtree_control");
            if (!File.Exists(control))
            {
                return false;
            }

            foreach (string controller in File.ReadAllText(control).Split(' ', '\n'))
            {
                if (controller == "memory")
                {
                    return true;
                }
            }

            return false;
        }
        catch (IOException)
        {
            return false;
        }
        catch (System.UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Creates the worker's cgroup and sets its limit (supervisor side, before the start).</summary>
    /// <param name="directory">The worker's cgroup directory.</param>
    /// <param name="maxBytes">The <c>memory.max</c> value.</param>
    public static void Create(string directory, long maxBytes)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "memory.max"), maxBytes.ToString(CultureInfo.InvariantCulture));
        string swap = Path.Combine(directory, "memory.swap.max");
        if (File.Exists(swap))
        {
            File.WriteAllText(swap, "0");
        }
    }

    /// <summary>Moves the calling process into the cgroup (stage 1, before Landlock).</summary>
    /// <param name="directory">The worker's cgroup directory.</param>
    /// <exception cref="SandboxException">The move failed.</exception>
    public static void Join(string directory)
    {
        try
        {
            File.WriteAllText(Path.Combine(directory, "cgroup.procs"), "0");
        }
        catch (IOException e)
        {
            throw new SandboxException($"Sandbox layer MemoryCgroup: could not join {directory}: {e.Message}", e);
        }
        catch (System.UnauthorizedAccessException e)
        {
            throw new SandboxException($"Sandbox layer MemoryCgroup: could not join {directory}: {e.Message}", e);
        }
    }
}
