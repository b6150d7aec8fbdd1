using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>The sandbox's log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LoggerEventIds.SandboxWarning, Level = LogLevel.Warning, Message = "Worker {WorkerName} starts with a weaker sandbox (missing layers: {MissingLayers}): {Warning}")]
    public static partial void SandboxWarning(ILogger logger, string workerName, SandboxLayers missingLayers, string warning);
}
