using System;

namespace IpcChannel.Supervisor;

/// <summary>
/// A send or request could not be delivered because the worker was down (restarting, stopped, or the
/// supervisor gave up) for longer than its <see cref="IpcWorkerOptions.UnavailableTimeout"/>. Nothing was
/// delivered.
/// </summary>
public sealed class IpcWorkerUnavailableException : IpcWorkerException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="workerName">The worker's name.</param>
    /// <param name="state">Its state when the wait ended.</param>
    /// <param name="waited">How long the caller waited.</param>
    /// <param name="innerException">The cause, if any.</param>
    public IpcWorkerUnavailableException(string workerName, IpcWorkerState state, TimeSpan waited, Exception? innerException = null)
        : base(workerName, $"The IPC worker '{workerName}' is unavailable ({state}) and did not come back while the caller waited ({waited.TotalMilliseconds:0} ms); the message was not delivered.", innerException)
    {
        State = state;
        Waited = waited;
    }

    /// <summary>The worker's state when the wait ended.</summary>
    public IpcWorkerState State { get; }

    /// <summary>How long the caller waited.</summary>
    public TimeSpan Waited { get; }
}
