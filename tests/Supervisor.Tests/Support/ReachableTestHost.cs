using System;
using System.IO;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>
/// The test host app where a worker's own user can run it: next to the tests when every directory above it is
/// searchable and its files readable by others, otherwise a copy in a world-searchable temp directory (a checkout under
/// a 0700 home), removed on dispose. Otherwise the supervisor would fall back to its own user for the workers.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReachableTestHost : IDisposable
{
    private const UnixFileMode OtherRead = UnixFileMode.OtherRead;
    private readonly DirectoryInfo? _copy;

    public ReachableTestHost()
    {
        if (FindUnsearchable(AppContext.BaseDirectory) is null && (File.GetUnixFileMode(TestPaths.Apphost) & OtherRead) != 0
            && (File.GetUnixFileMode(TestPaths.Dll) & OtherRead) != 0)
        {
            Apphost = TestPaths.Apphost;
            return;
        }

        _copy = Directory.CreateTempSubdirectory("ipcchannel-testhost-copy-");
        File.SetUnixFileMode(_copy.FullName, (UnixFileMode)0b111_101_101);
        foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            string target = Path.Combine(_copy.FullName, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, (File.GetUnixFileMode(file) & UnixFileMode.UserExecute) != 0 ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100);
        }

        Apphost = Path.Combine(_copy.FullName, Path.GetFileName(TestPaths.Apphost));
    }

    /// <summary>The apphost to launch workers from.</summary>
    public string Apphost { get; }

    /// <summary>The first directory from the root down to <paramref name="path"/> (included) that others cannot search, or null.</summary>
    public static string? FindUnsearchable(string path)
    {
        string full = Path.GetFullPath(path);
        for (string? directory = Path.GetPathRoot(full); directory is not null;)
        {
            if ((File.GetUnixFileMode(directory) & UnixFileMode.OtherExecute) == 0)
            {
                return directory;
            }

            string relative = Path.GetRelativePath(directory, full);
            if (relative == ".")
            {
                return null;
            }

            directory = Path.Combine(directory, relative.Split(Path.DirectorySeparatorChar)[0]);
        }

        return null;
    }

    public void Dispose() => _copy?.Delete(recursive: true);
}
