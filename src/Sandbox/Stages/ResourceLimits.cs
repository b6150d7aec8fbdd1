using static IpcChannel.Supervisor.Sandbox.Interop.Resource;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>Sets the worker's rlimits (inherited across execve by the real worker).</summary>
internal static class ResourceLimits
{
    /// <summary>Applies the configured limits.</summary>
    /// <param name="config">The stage configuration.</param>
    /// <exception cref="SandboxException">A limit could not be set.</exception>
    public static void Apply(StageConfig config)
    {
        Set(RLIMIT_NOFILE, config.MaxOpenFiles, "RLIMIT_NOFILE");
        Set(RLIMIT_NPROC, config.MaxProcesses, "RLIMIT_NPROC");
        Set(RLIMIT_FSIZE, config.MaxFileSizeBytes, "RLIMIT_FSIZE");
        Set(RLIMIT_DATA, config.MaxDataBytes, "RLIMIT_DATA");
    }

    /// <summary>Turns core dumps off (<c>RLIMIT_CORE</c> = 0).</summary>
    /// <exception cref="SandboxException">The limit could not be set.</exception>
    public static void DisableCoreDumps() => Set(RLIMIT_CORE, 0, "RLIMIT_CORE");

    /// <summary>Sets soft and hard limit to <paramref name="value"/>, or to the current hard limit when that is lower.</summary>
    private static unsafe void Set(int resource, long? value, string name)
    {
        if (value is null)
        {
            return;
        }

        RLimit current;
        if (Interop.GetRLimit(resource, &current) != 0)
        {
            throw Errors.Last(SandboxLayers.ResourceLimits, $"getrlimit({name})");
        }

        // Never raise: an unprivileged process cannot, and a lower hard limit is already stricter.
        ulong limit = (ulong)value.Value < current.rlim_max ? (ulong)value.Value : current.rlim_max;
        var wanted = new RLimit { rlim_cur = limit, rlim_max = limit };
        if (Interop.SetRLimit(resource, &wanted) != 0)
        {
            throw Errors.Last(SandboxLayers.ResourceLimits, $"setrlimit({name}, {limit})");
        }
    }
}
