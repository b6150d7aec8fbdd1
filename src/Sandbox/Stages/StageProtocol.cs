using System;
using System.Globalization;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>The environment variables through which the supervisor and the two stages of a worker talk.</summary>
internal static class StageProtocol
{
    /// <summary>
    /// <c>1</c>: the process is the first stage and must apply the pre-exec layers and re-execute itself.
    /// <c>2:&lt;layers&gt;:&lt;landlock abi&gt;</c>: the process is the real worker; stage 1 applied those layers.
    /// </summary>
    public const string StageVariable = "IPCCHANNEL_SANDBOX_STAGE";

    /// <summary>The encoded <see cref="StageConfig"/>.</summary>
    public const string ConfigVariable = "IPCCHANNEL_SANDBOX_CONFIG";

    /// <summary>
    /// The descriptor number of the connection stage 1 opened to the server named in
    /// <see cref="StageConfig.ServerVariable"/>, inherited by the real worker; stage 2 takes it out of the environment.
    /// </summary>
    public const string ConnectionVariable = "IPCCHANNEL_SANDBOX_CONNECTION";

    /// <summary>The value that asks for stage 1.</summary>
    public const string FirstStage = "1";

    /// <summary>Formats the stage-2 marker.</summary>
    /// <param name="applied">The layers stage 1 applied.</param>
    /// <param name="landlockAbi">The Landlock ABI stage 1 used (0 for none).</param>
    /// <returns>The variable's value.</returns>
    public static string SecondStage(SandboxLayers applied, int landlockAbi) =>
        string.Create(CultureInfo.InvariantCulture, $"2:{(int)applied}:{landlockAbi}");

    /// <summary>Parses the stage-2 marker.</summary>
    /// <param name="value">The variable's value.</param>
    /// <param name="applied">The layers stage 1 applied.</param>
    /// <param name="landlockAbi">The Landlock ABI stage 1 used.</param>
    /// <returns>Whether the value is a stage-2 marker.</returns>
    public static bool TryParseSecondStage(string? value, out SandboxLayers applied, out int landlockAbi)
    {
        applied = SandboxLayers.None;
        landlockAbi = 0;
        if (value is null || !value.StartsWith("2:", StringComparison.Ordinal))
        {
            return false;
        }

        string[] parts = value.Split(':');
        if (parts.Length != 3
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int layers)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out landlockAbi))
        {
            return false;
        }

        applied = (SandboxLayers)layers;
        return true;
    }
}
