using System;
using Xunit;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>
/// A fact about workers that run as users of their own: reported as skipped, with the reason, unless this process is
/// root (only a root supervisor gives its workers users of their own; elsewhere they share its user) and the temp
/// directory is searchable by others (where <see cref="ReachableTestHost"/> copies the test host when the checkout is
/// not reachable).
/// </summary>
public sealed class PerWorkerUserFactAttribute : FactAttribute
{
    /// <summary>Marks the test as skipped when per-worker users are unavailable here.</summary>
    public PerWorkerUserFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            Skip = "needs Linux and root: per-worker users are unavailable to a supervisor that is not root (its workers share its user)";
        }
        else if (OperatingSystem.IsLinux() && IpcChannel.Tests.Support.WorldReadableCopy.FindUnsearchable(System.IO.Path.GetTempPath()) is { } directory)
        {
            Skip = $"the temp directory is not reachable by other users ({directory} is not searchable by others), so the test host cannot be copied where a worker's own user could run it";
        }
    }
}
