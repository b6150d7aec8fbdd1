using System;
using IpcChannel.Tests.Support;

namespace IpcChannel.Sandbox.Tests.Support;

/// <summary>The test worker where users other than the checkout's owner can run it (see <see cref="WorldReadableCopy"/>). Use with <see cref="OtherUserFactAttribute"/>.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OtherUserWorker : IDisposable
{
    /// <summary>The first of the host user IDs the tests run workers as (none of them a real user's).</summary>
    public const int FirstUserId = 1_999_990_001;

    private readonly WorldReadableCopy _copy = new(SandboxedWorker.WorkerProgram);

    /// <summary>The worker program to pass to <see cref="SandboxedWorker.RunAsync"/>.</summary>
    public string Program => _copy.Program;

    /// <summary>Removes the copy, if one was made.</summary>
    public void Dispose() => _copy.Dispose();
}
