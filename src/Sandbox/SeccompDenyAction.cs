namespace IpcChannel.Supervisor.Sandbox;

/// <summary>What the seccomp filter does when the worker makes a denied system call.</summary>
public enum SeccompDenyAction
{
    /// <summary>The call fails with <c>EPERM</c> and the worker goes on (the default).</summary>
    Errno = 0,

    /// <summary>The whole worker process is killed (<c>SECCOMP_RET_KILL_PROCESS</c>, SIGSYS).</summary>
    KillProcess = 1,

    /// <summary>The call is allowed and logged by the kernel (<c>SECCOMP_RET_LOG</c>); for finding what a worker needs.</summary>
    Log = 2,
}
