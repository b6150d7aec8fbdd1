using System;
using System.Globalization;

namespace IpcChannel.Supervisor;

/// <summary>
/// The environment variables through which a parent tells a launched process that it is a worker, and what
/// this process was told. An app can read <see cref="IsWorker"/> to skip parent-only setup.
/// </summary>
public static class IpcWorkerEnvironment
{
    /// <summary>The bootstrap server's name (an <see cref="IpcServer{T}"/> of the parent).</summary>
    public const string BootstrapVariable = "IPCCHANNEL_SUPERVISOR_BOOTSTRAP";

    /// <summary>The worker's name.</summary>
    public const string WorkerVariable = "IPCCHANNEL_SUPERVISOR_WORKER";

    /// <summary>The incarnation number (1 for the first start).</summary>
    public const string IncarnationVariable = "IPCCHANNEL_SUPERVISOR_INCARNATION";

    /// <summary>A one-time secret the worker repeats in its hello.</summary>
    public const string TokenVariable = "IPCCHANNEL_SUPERVISOR_TOKEN";

    /// <summary>"1" when the process is a warm standby: it connects and waits to be activated.</summary>
    public const string StandbyVariable = "IPCCHANNEL_SUPERVISOR_STANDBY";

    /// <summary>The parent's process id (watched through a pidfd).</summary>
    public const string ParentPidVariable = "IPCCHANNEL_SUPERVISOR_PARENT_PID";

    /// <summary>The host setting that turns off the reload of configuration files on change
    /// (<see cref="IpcWorkerOptions.ReloadConfigurationOnChange"/>).</summary>
    internal const string ReloadConfigOnChangeVariable = "DOTNET_hostBuilder__reloadConfigOnChange";

    /// <summary>Whether this process was launched as a worker.</summary>
    public static bool IsWorker => !string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable(WorkerVariable))
        && !string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable(BootstrapVariable));

    /// <summary>This worker's name, or null in a parent.</summary>
    public static string? WorkerName => IsWorker ? System.Environment.GetEnvironmentVariable(WorkerVariable) : null;

    /// <summary>This worker's incarnation, or 0 in a parent.</summary>
    public static int Incarnation => IsWorker && int.TryParse(System.Environment.GetEnvironmentVariable(IncarnationVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;

    /// <summary>Reads the variables of a worker launch.</summary>
    internal static WorkerLaunchInfo? Read()
    {
        if (!IsWorker)
        {
            return null;
        }

        _ = int.TryParse(System.Environment.GetEnvironmentVariable(ParentPidVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int parentPid);
        return new WorkerLaunchInfo(
            System.Environment.GetEnvironmentVariable(BootstrapVariable)!,
            System.Environment.GetEnvironmentVariable(WorkerVariable)!,
            Incarnation,
            System.Environment.GetEnvironmentVariable(TokenVariable) ?? string.Empty,
            parentPid,
            System.Environment.GetEnvironmentVariable(StandbyVariable) == "1");
    }
}

/// <summary>What a worker process was told by its parent.</summary>
internal sealed record WorkerLaunchInfo(string Bootstrap, string WorkerName, int Incarnation, string Token, int ParentPid, bool Standby);
