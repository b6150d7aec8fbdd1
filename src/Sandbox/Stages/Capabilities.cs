using static IpcChannel.Supervisor.Sandbox.Interop.Capability;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Drops every capability of the calling thread, including the bounding and ambient sets, so that the real worker
/// starts with none even when it runs as (namespaced) root.
/// </summary>
internal static class Capabilities
{
    /// <summary>Drops all capabilities; after execve the program has an empty effective, permitted and bounding set.</summary>
    /// <exception cref="SandboxException">A set could not be cleared.</exception>
    public static unsafe void DropAll()
    {
        var header = new __user_cap_header_struct { version = _LINUX_CAPABILITY_VERSION_3, pid = 0 };
        __user_cap_data_struct* data = stackalloc __user_cap_data_struct[_LINUX_CAPABILITY_U32S_3];
        if (Interop.CapGet(&header, data) != 0)
        {
            throw Errors.Last(SandboxLayers.CleanStart, "capget");
        }

        bool hasAny = data[0].permitted != 0 || data[1].permitted != 0 || data[0].inheritable != 0 || data[1].inheritable != 0;
        if (hasAny)
        {
            // Ambient and bounding sets: what an execve could bring back. Dropping from the bounding set needs
            // CAP_SETPCAP, which a process with any permitted capability here (root, or root in a user namespace) has.
            if (Interop.Prctl(Interop.PR_CAP_AMBIENT, Interop.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
            {
                throw Errors.Last(SandboxLayers.CleanStart, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
            }

            for (nuint cap = 0; cap < 64; cap++)
            {
                if (Interop.Prctl(Interop.PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
                {
                    break; // EINVAL: past the kernel's last capability.
                }

                if (Interop.Prctl(Interop.PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
                {
                    throw Errors.Last(SandboxLayers.CleanStart, $"prctl(PR_CAPBSET_DROP, {cap})");
                }
            }
        }

        data[0] = default;
        data[1] = default;
        header = new __user_cap_header_struct { version = _LINUX_CAPABILITY_VERSION_3, pid = 0 };
        if (Interop.CapSet(&header, data) != 0)
        {
            throw Errors.Last(SandboxLayers.CleanStart, "capset(0)");
        }
    }
}
