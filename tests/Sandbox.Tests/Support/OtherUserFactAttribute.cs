using System;
using System.IO;
using IpcChannel.Tests.Support;
using Xunit;

namespace IpcChannel.Sandbox.Tests.Support;

/// <summary>
/// A fact that runs workers as users of their own: reported as skipped, with the reason, unless this process is root
/// (only root can start a process as another user) and the temp directory is searchable by others (where
/// <see cref="OtherUserWorker"/> puts a copy of the worker when the checkout is not reachable).
/// </summary>
public sealed class OtherUserFactAttribute : FactAttribute
{
    /// <summary>Marks the test as skipped when workers cannot run as other users here.</summary>
    public OtherUserFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root: only root can start a worker as a user of its own (per-worker users are unavailable here)";
        }
        else if (OperatingSystem.IsLinux() && WorldReadableCopy.FindUnsearchable(Path.GetTempPath()) is { } directory)
        {
            Skip = $"the temp directory is not reachable by other users ({directory} is not searchable by others), so a copy of the worker there could not run as another user";
        }
    }
}
