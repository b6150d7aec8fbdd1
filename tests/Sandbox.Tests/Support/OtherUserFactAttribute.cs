using System;
using System.IO;
using IpcChannel.Supervisor.Sandbox;
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
        else if (UserAccess.FindProblem(Path.GetTempPath(), OtherUserWorker.FirstUserId, OtherUserWorker.FirstUserId, UserAccess.Execute) is { } problem)
        {
            Skip = $"a copy of the worker in the temp directory would not be reachable by another user: {problem}";
        }
    }
}
