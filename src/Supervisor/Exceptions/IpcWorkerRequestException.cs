namespace IpcChannel.Supervisor;

/// <summary>The worker's request handler threw; the worker goes on serving.</summary>
public sealed class IpcWorkerRequestException : IpcWorkerException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workerName">The worker's name.</param>
    /// <param name="remoteType">The full name of the exception type thrown in the worker.</param>
    /// <param name="remoteMessage">Its message.</param>
    public IpcWorkerRequestException(string workerName, string remoteType, string remoteMessage)
        : base(workerName, $"The IPC worker '{workerName}' failed the request: {remoteType}: {remoteMessage}")
    {
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
    }

    /// <summary>The full name of the exception type thrown in the worker.</summary>
    public string RemoteType { get; }

    /// <summary>Its message.</summary>
    public string RemoteMessage { get; }
}
