using Microsoft.Win32.SafeHandles;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>What a worker runs under, as reported by <see cref="SandboxStages.ApplySecondStage"/>.</summary>
public sealed class SandboxStatus
{
    internal SandboxStatus(SandboxLayers layers, int landlockAbi, int threadsVerified, SafeFileHandle? connection = null)
    {
        Layers = layers;
        LandlockAbi = landlockAbi;
        ThreadsVerified = threadsVerified;
        Connection = connection;
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

    /// <summary>
    /// The socket stage 1 connected to the server named by <see cref="SandboxLaunchSpec.ServerVariable"/> before it
    /// confined the worker (an <c>AF_UNIX SOCK_SEQPACKET</c> socket, close-on-exec), or <see langword="null"/> when the
    /// launch named no server or the process was not launched sandboxed. The caller owns it: adopt it as the sender to
    /// that server, or dispose it.
    /// </summary>
    public SafeFileHandle? Connection { get; }
}
