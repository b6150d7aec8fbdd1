using System;
using System.IO;
using IpcChannel.Supervisor.Sandbox;

namespace IpcChannel.Sandbox.Tests.Support;

/// <summary>
/// The test worker as a program that users other than the checkout's owner can run: the build output itself when they
/// can reach it, otherwise a copy in a world-searchable temp directory (a checkout under a 0700 home), removed on
/// dispose. Use with <see cref="OtherUserFactAttribute"/>.
/// </summary>
public sealed class OtherUserWorker : IDisposable
{
    /// <summary>The first of the host user IDs the tests run workers as (none of them a real user's).</summary>
    public const int FirstUserId = 1_999_990_001;

    private readonly DirectoryInfo? _copy;

    /// <summary>Finds or makes the reachable program.</summary>
    public OtherUserWorker()
    {
        string program = SandboxedWorker.WorkerProgram;
        if (UserAccess.FindProblem(program, FirstUserId, FirstUserId, UserAccess.Read | UserAccess.Execute) is null
            && UserAccess.FindProblem(AppContext.BaseDirectory, FirstUserId, FirstUserId, UserAccess.Read | UserAccess.Execute) is null)
        {
            Program = program;
            return;
        }

        _copy = Directory.CreateTempSubdirectory("ipcchannel-worker-copy-");
        File.SetUnixFileMode(_copy.FullName, (UnixFileMode)0b111_101_101);
        foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            string target = Path.Combine(_copy.FullName, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, (File.GetUnixFileMode(file) & (UnixFileMode)0b111_000_000) is var owner && (owner & UnixFileMode.UserExecute) != 0
                ? (UnixFileMode)0b111_101_101
                : (UnixFileMode)0b110_100_100);
        }

        Program = Path.Combine(_copy.FullName, Path.GetFileName(program));
    }

    /// <summary>The worker program to pass to <see cref="SandboxedWorker.RunAsync"/>.</summary>
    public string Program { get; }

    /// <summary>Removes the copy, if one was made.</summary>
    public void Dispose() => _copy?.Delete(recursive: true);
}
