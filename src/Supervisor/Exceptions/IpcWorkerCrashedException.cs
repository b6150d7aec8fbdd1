namespace IpcChannel.Supervisor;

/// <summary>
/// The worker incarnation that received a request ended (crashed, hung, was stopped or restarted) before it
/// answered. The request may or may not have been processed; it is not retried.
/// </summary>
public sealed class IpcWorkerCrashedException : IpcWorkerException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workerName">The worker's name.</param>
    /// <param name="incarnation">The incarnation that ended.</param>
    /// <param name="reason">Why it ended.</param>
    public IpcWorkerCrashedException(string workerName, int incarnation, string reason)
        : base(workerName, $"The IPC worker '{workerName}' (incarnation {incarnation}) ended before it answered: {reason}.")
    {
        Incarnation = incarnation;
        Reason = reason;
    }

    /// <summary>The incarnation that ended.</summary>
    public int Incarnation { get; }

    /// <summary>Why it ended.</summary>
    public string Reason { get; }
}
