using System;
using System.IO;

namespace IpcChannel.Tests.Support;

/// <summary>
/// A program's build output where any user can run it: the output itself when every directory above it is
/// searchable and the program readable by others, else a copy in a world-searchable temp directory (a checkout under a
/// 0700 home), removed on dispose. For tests that run workers as users of their own. Linked into the Sandbox and
/// Supervisor tests.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WorldReadableCopy : IDisposable
{
    private const UnixFileMode Executable = (UnixFileMode)0b111_101_101;
    private const UnixFileMode Readable = (UnixFileMode)0b110_100_100;
    private readonly DirectoryInfo? _copy;

    /// <summary>Finds or makes a reachable <paramref name="program"/> (an apphost in <see cref="AppContext.BaseDirectory"/>).</summary>
    /// <param name="program">The program's path in the build output.</param>
    public WorldReadableCopy(string program)
    {
        if (FindUnsearchable(Path.GetDirectoryName(program)!) is null && (File.GetUnixFileMode(program) & UnixFileMode.OtherRead) != 0)
        {
            Program = program;
            return;
        }

        _copy = Directory.CreateTempSubdirectory("ipcchannel-program-copy-");
        File.SetUnixFileMode(_copy.FullName, Executable);
        foreach (string file in Directory.EnumerateFiles(Path.GetDirectoryName(program)!))
        {
            string target = Path.Combine(_copy.FullName, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, (File.GetUnixFileMode(file) & UnixFileMode.UserExecute) != 0 ? Executable : Readable);
        }

        Program = Path.Combine(_copy.FullName, Path.GetFileName(program));
    }

    /// <summary>The program to launch.</summary>
    public string Program { get; }

    /// <summary>The first directory from the root down to <paramref name="path"/> (included) that others cannot search, or null.</summary>
    /// <param name="path">A directory.</param>
    /// <returns>That directory, or null when all can be searched.</returns>
    public static string? FindUnsearchable(string path)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetPathRoot(full)!;
        foreach (string part in Path.GetRelativePath(directory, full).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            if ((File.GetUnixFileMode(directory) & UnixFileMode.OtherExecute) == 0)
            {
                return directory;
            }

            directory = Path.Combine(directory, part);
        }

        return (File.GetUnixFileMode(directory) & UnixFileMode.OtherExecute) == 0 ? directory : null;
    }

    /// <summary>Removes the copy, if one was made.</summary>
    public void Dispose() => _copy?.Delete(recursive: true);
}
