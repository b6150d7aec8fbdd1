namespace IpcChannel.Supervisor;

/// <summary>Where a supervised worker is in its life, as seen by the parent.</summary>
public enum IpcWorkerState
{
    /// <summary>Not started yet.</summary>
    NotStarted,

    /// <summary>Its process is being launched and has not said hello yet.</summary>
    Starting,

    /// <summary>Connected and serving.</summary>
    Running,

    /// <summary>It ended and a restart is pending (possibly waiting for backoff).</summary>
    Restarting,

    /// <summary>It is being stopped (host stop or a restart strategy).</summary>
    Stopping,

    /// <summary>It ended and will not be restarted (normal exit of a transient worker, any exit of a temporary one, or the host stopped).</summary>
    Stopped,

    /// <summary>The supervisor gave up (restart intensity exceeded).</summary>
    Failed,
}
