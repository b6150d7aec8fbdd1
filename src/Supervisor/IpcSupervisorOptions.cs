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

    /// <summary>Restart intensity: at most this many restarts within <see cref="RestartPeriod"/>, counted across every
    /// worker; one more and the supervisor gives up, stops every worker in reverse order and stops the host with
    /// <see cref="GiveUpExitCode"/>. Default 5; 0 gives up at the first restart.</summary>
    public int MaxRestarts { get; set; } = 5;

    /// <summary>The window of <see cref="MaxRestarts"/> (OTP <c>period</c>). Default 10 s.</summary>
    /// <remarks>The window counts the time the workers were given to run: a restart's age leaves out the time its worker
    /// then spent in its backoff delay, waiting for its group's stops and launching up to its hello. A backoff therefore
    /// never decides whether the supervisor gives up, only when: a crash loop whose incarnations each run for less than
    /// <c>RestartPeriod / (MaxRestarts + 1)</c> gives up at its <c>MaxRestarts + 1</c>-th end, at most
    /// <c>MaxRestarts × (BackoffMax × (1 + BackoffJitter) + StartTimeout) + RestartPeriod</c> after its first.</remarks>
    public TimeSpan RestartPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The delay before a worker's second consecutive restart; it doubles for each further one up to
    /// <see cref="BackoffMax"/>. The first restart is always immediate. Default 100 ms. The delay is the restarted
    /// group's own: the supervisor goes on deciding other workers' ends meanwhile.</summary>
    public TimeSpan BackoffInitial { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest backoff delay. Default 5 s.</summary>
    public TimeSpan BackoffMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Random spread applied to each backoff delay, as a fraction (0.2 = ±20 %). Default 0.2; 0 to 1.</summary>
    public double BackoffJitter { get; set; } = 0.2;

    /// <summary>A worker whose incarnation stayed up this long (from its hello to its exit) starts a new backoff series
    /// (its next restart is immediate again). Default 10 s; positive.</summary>
    public TimeSpan BackoffResetAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether a worker that fails to start while the host starts fails the host's start, as OTP's
    /// <c>init_children</c> does. Default true: the workers started before it are stopped in reverse order and the
    /// host's <c>StartAsync</c> throws an <see cref="IpcWorkerException"/> naming it. A start fails when the worker cannot
    /// be launched, does not say hello within <see cref="IpcWorkerOptions.StartTimeout"/>, ends before its hello or
    /// breaks the protocol in it; a worker that ends right after its hello has started. False: such a worker's end is
    /// handled like any other (counted as a crash, restarted by its restart type, toward the intensity).
    /// </summary>
    public bool FailHostOnStartFailure { get; set; } = true;

    /// <summary>The process exit code when the supervisor gives up. Default 70 (<c>EX_SOFTWARE</c>); 1 to 255.</summary>
    public int GiveUpExitCode { get; set; } = 70;

    /// <summary>
    /// Turns off the bootstrap server's defences against its own workers (the launch-in-progress filter and the
    /// first-message deadline), leaving only the uid check: for the tests' twins, which show that the attacks these
    /// defences stop succeed without them. Internal, so never bound from configuration.
    /// </summary>
    internal bool TrustBootstrapPeers { get; set; }
}
