namespace IpcChannel.Supervisor.Sandbox;

/// <summary>What a worker runs under, as reported by <see cref="SandboxStages.ApplySecondStage"/>.</summary>
public sealed class SandboxStatus
{
    internal SandboxStatus(SandboxLayers layers, int landlockAbi, int threadsVerified)
    {
        Layers = layers;
        LandlockAbi = landlockAbi;
        ThreadsVerified = threadsVerified;
    }

    /// <summary>The status of a process that was not started sandboxed.</summary>
    public static SandboxStatus NotSandboxed { get; } = new(SandboxLayers.None, 0, 0);

    /// <summary>Whether the process runs sandboxed.</summary>
    public bool IsSandboxed => Layers != SandboxLayers.None;

    /// <summary>The layers in force.</summary>
    public SandboxLayers Layers { get; }

    /// <summary>The Landlock ABI of the ruleset in force, or 0.</summary>
    public int LandlockAbi { get; }

    /// <summary>How many threads were checked in /proc/self/task after the seccomp filter went in.</summary>
    public int ThreadsVerified { get; }
}
