using System;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// A sandbox layer could not be applied: the machine lacks it (and <see cref="SandboxOptions.AllowMissing"/> does not
/// allow that), or applying it failed. The worker must not run.
/// </summary>
public sealed class SandboxException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SandboxException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public SandboxException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public SandboxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a layer.</summary>
    /// <param name="layer">The layer (or layers) that is missing or failed.</param>
    /// <param name="message">What failed; should name the layer.</param>
    /// <param name="errno">The errno of the failing system call, or 0.</param>
    public SandboxException(SandboxLayers layer, string message, int errno = 0)
        : base(message)
    {
        Layer = layer;
        Errno = errno;
    }

    /// <summary>The layer (or layers) that is missing or failed; <see cref="SandboxLayers.None"/> when not layer-specific.</summary>
    public SandboxLayers Layer { get; }

    /// <summary>The errno of the failing system call, or 0.</summary>
    public int Errno { get; }
}
