using System;

namespace IpcChannel.Supervisor;

/// <summary>The base of the supervisor's exceptions; names the worker concerned.</summary>
public class IpcWorkerException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workerName">The worker's name.</param>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause, if any.</param>
    public IpcWorkerException(string workerName, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        WorkerName = workerName;
    }

    /// <summary>The worker's name.</summary>
    public string WorkerName { get; }
}
