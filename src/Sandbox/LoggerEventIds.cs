namespace IpcChannel.Supervisor.Sandbox;

/// <summary>Event IDs of the sandbox's log messages: the range 8000-8099 (issue 8) of IpcChannel.Supervisor.</summary>
internal static class LoggerEventIds
{
    /// <summary>A worker starts without a layer (or without the sandbox).</summary>
    public const int SandboxWarning = 8001;
}
