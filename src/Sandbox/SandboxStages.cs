using System;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// The two calls a worker program makes so that the sandbox planned by <see cref="SandboxLauncher"/> covers every one
/// of its threads.
/// </summary>
/// <example>
/// <code>
/// static Task&lt;int&gt; Main(string[] args)
/// {
///     SandboxStages.RunFirstStageIfRequested();   // first line: may re-execute the process
///     return WorkerMainAsync(args);               // keep Main tiny: stage 1 runs before the rest is JIT-compiled
/// }
///
/// static async Task&lt;int&gt; WorkerMainAsync(string[] args)
/// {
///     // ... build the host, read configuration (trusted) ...
///     SandboxStatus sandbox = SandboxStages.ApplySecondStage();   // before connecting back or reading untrusted data
///     // ... connect to the supervisor and serve ...
/// }
/// </code>
/// </example>
public static class SandboxStages
{
    /// <summary>
    /// Stage 1. Call it first thing in Main. When the process was launched as a sandbox first stage, this applies
    /// resource limits, the clean start (fds, core dumps, capabilities), the read-only mount view, no_new_privs and
    /// Landlock on the calling thread, then re-executes the same program as the real worker and never returns.
    /// Otherwise it returns at once.
    /// </summary>
    /// <remarks>
    /// Landlock (before ABI 8) and a seccomp filter without TSYNC restrict only the calling thread, and the .NET
    /// runtime starts threads before Main. The execve discards all of them: the real worker's runtime then starts
    /// every thread from a main thread that is already restricted.
    /// </remarks>
    /// <exception cref="SandboxException">A required layer is missing or could not be applied; the process must exit.</exception>
    public static void RunFirstStageIfRequested()
    {
        if (Environment.GetEnvironmentVariable(StageProtocol.StageVariable) != StageProtocol.FirstStage)
        {
            return;
        }

        FirstStage.Run(ReadConfig());
    }

    /// <summary>
    /// Stage 2. Call it in the real worker before it reads untrusted data or connects back: installs the seccomp
    /// filter on every thread at once (TSYNC), then checks /proc/self/task/*/status of every thread (Seccomp: 2,
    /// NoNewPrivs: 1) and fails if one is not covered. In a process not launched sandboxed it does nothing.
    /// </summary>
    /// <returns>The layers in force; <see cref="SandboxStatus.NotSandboxed"/> when the process was not launched sandboxed.</returns>
    /// <exception cref="SandboxException">A layer could not be applied or a thread is not covered; the process must exit.</exception>
    /// <exception cref="InvalidOperationException">Stage 1 did not run (<see cref="RunFirstStageIfRequested"/> was not called first).</exception>
    public static SandboxStatus ApplySecondStage()
    {
        string? stage = Environment.GetEnvironmentVariable(StageProtocol.StageVariable);
        if (stage is null)
        {
            return SandboxStatus.NotSandboxed;
        }

        if (stage == StageProtocol.FirstStage)
        {
            throw new InvalidOperationException(
                "The sandbox's first stage has not run: call SandboxStages.RunFirstStageIfRequested() at the start of Main.");
        }

        if (!StageProtocol.TryParseSecondStage(stage, out SandboxLayers applied, out int landlockAbi))
        {
            throw new SandboxException($"Sandbox: {StageProtocol.StageVariable} has an unknown value '{stage}'.");
        }

        return SecondStage.Apply(ReadConfig(), applied, landlockAbi);
    }

    private static StageConfig ReadConfig() =>
        StageConfig.Decode(Environment.GetEnvironmentVariable(StageProtocol.ConfigVariable)
            ?? throw new SandboxException($"Sandbox: {StageProtocol.ConfigVariable} is not set; the worker was not launched through SandboxLauncher.Plan."));
}
