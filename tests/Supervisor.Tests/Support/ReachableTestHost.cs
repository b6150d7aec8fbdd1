using System;
using IpcChannel.Tests.Support;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>
/// The test host app where a worker's own user can run it (see <see cref="WorldReadableCopy"/>); otherwise the
/// supervisor would fall back to its own user for the workers.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReachableTestHost : IDisposable
{
    private readonly WorldReadableCopy _copy = new(TestPaths.Apphost);

    /// <summary>The apphost to launch workers from.</summary>
    public string Apphost => _copy.Program;

    /// <summary>Removes the copy, if one was made.</summary>
    public void Dispose() => _copy.Dispose();
}
