namespace IpcChannel.Supervisor;

/// <summary>What a send or request does while its worker is down (crashed and restarting, or not started yet).</summary>
public enum IpcUnavailablePolicy
{
    /// <summary>Wait up to <see cref="IpcWorkerOptions.UnavailableTimeout"/> for the worker to come back, then throw <see cref="IpcWorkerUnavailableException"/>.</summary>
    Wait,

    /// <summary>Throw <see cref="IpcWorkerUnavailableException"/> at once.</summary>
    FailFast,
}
