namespace IpcChannel.Supervisor;

/// <summary>
/// Rewrites a worker's launch spec before every launch (for example a sandbox adding a prefix and reducing the
/// environment). Register implementations in DI; they run in registration order.
/// </summary>
public interface IIpcWorkerLaunchFilter
{
    /// <summary>Returns the spec to launch.</summary>
    /// <param name="workerName">The worker's name.</param>
    /// <param name="incarnation">The incarnation about to start (1 for the first).</param>
    /// <param name="spec">The spec so far; it already carries the supervisor's bootstrap variables, which must be kept.</param>
    /// <returns>The spec to use.</returns>
    IpcWorkerLaunchSpec Apply(string workerName, int incarnation, IpcWorkerLaunchSpec spec);
}
