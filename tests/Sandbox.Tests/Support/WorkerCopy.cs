using System;
using System.IO;

namespace IpcChannel.Sandbox.Tests.Support;

/// <summary>
/// A copy of the test worker (its apphost and every file beside it) in a fresh directory that every user can
/// traverse and read, removed on dispose. A test that runs the worker as another user needs it: the checkout, and
/// so <see cref="SandboxedWorker.WorkerProgram"/>, may sit under a directory that only its owner can enter (0700).
/// </summary>
public sealed class WorkerCopy : IDisposable
{
    private const UnixFileMode Traversable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode Readable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string _directory;

    private WorkerCopy(string directory)
    {
        _directory = directory;
        Program = Path.Combine(directory, Path.GetFileName(SandboxedWorker.WorkerProgram));
    }

    /// <summary>The copied apphost.</summary>
    public string Program { get; }

    /// <summary>Copies the worker under /tmp (sticky and world-traversable on every Linux system).</summary>
    /// <returns>The copy; dispose it to remove it.</returns>
    public static WorkerCopy Create()
    {
        // Not Path.GetTempPath(): TMPDIR may itself be private to this user.
        string directory = Path.Combine("/tmp", $"ipcchannel-worker-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory, Traversable);
        File.SetUnixFileMode(directory, Traversable); // the umask may have narrowed the mode given to mkdir
        var copy = new WorkerCopy(directory);
        try
        {
            foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory))
            {
                string target = Path.Combine(directory, Path.GetFileName(file));
                File.Copy(file, target);
                File.SetUnixFileMode(target, target == copy.Program ? Traversable : Readable);
            }
        }
        catch
        {
            copy.Dispose();
            throw;
        }

        return copy;
    }

    /// <summary>Removes the copy.</summary>
    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
