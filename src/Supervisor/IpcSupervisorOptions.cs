using System;

namespace IpcChannel.Supervisor;

/// <summary>
/// How the supervisor of a host restarts its workers (Erlang/OTP supervisor flags). Bound from the
/// <c>IpcSupervisor</c> configuration section and validated at host start.
/// </summary>
public sealed class IpcSupervisorOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "IpcSupervisor";

    /// <summary>Which workers a restart affects. Default <see cref="IpcRestartStrategy.OneForOne"/>.</summary>
    public IpcRestartStrategy Strategy { get; set; } = IpcRestartStrategy.OneForOne;

    /// <summary>Restart intensity: at most this many restarts within <see cref="RestartPeriod"/>; one more and the
    /// supervisor gives up, stops every worker and stops the host. Default 5; 0 gives up at the first restart.</summary>
    public int MaxRestarts { get; set; } = 5;

    /// <summary>The window of <see cref="MaxRestarts"/> (OTP <c>period</c>). Default 10 s.</summary>
    public TimeSpan RestartPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The delay before a worker's second consecutive restart; it doubles for each further one up to
    /// <see cref="BackoffMax"/>. The first restart is always immediate. Default 100 ms.</summary>
    public TimeSpan BackoffInitial { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest backoff delay. Default 5 s.</summary>
    public TimeSpan BackoffMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Random spread applied to each backoff delay, as a fraction (0.2 = ±20 %). Default 0.2; 0 to 1.</summary>
    public double BackoffJitter { get; set; } = 0.2;

    /// <summary>A worker that stayed up this long starts a new backoff series (its next restart is immediate again).
    /// Default 10 s.</summary>
    public TimeSpan BackoffResetAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The process exit code when the supervisor gives up. Default 70 (<c>EX_SOFTWARE</c>); 1 to 255.</summary>
    public int GiveUpExitCode { get; set; } = 70;

    /// <summary>
    /// Turns off the bootstrap server's defences against its own workers (the launch-in-progress filter and the
    /// first-message deadline), leaving only the uid check: for the tests' twins, which show that the attacks these
    /// defences stop succeed without them. Internal, so never bound from configuration.
    /// </summary>
    internal bool TrustBootstrapPeers { get; set; }
}
