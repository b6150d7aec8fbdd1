using System;
using System.IO;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>Whether a worker's own user could reach the app's files, judged from real files' owners and modes.</summary>
public sealed class UserAccessTests : IDisposable
{
    private const int Other = 1_999_990_101;
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("ipcchannel-access-");

    public UserAccessTests() => File.SetUnixFileMode(_root.FullName, (UnixFileMode)0b111_101_101);

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void FindProblem_FileUnderAPrivateDirectory_NamesThatDirectory()
    {
        string home = Directory.CreateDirectory(Path.Combine(_root.FullName, "home"), (UnixFileMode)0b111_000_000).FullName;
        string app = Path.Combine(home, "app.dll");
        File.WriteAllText(app, "");
        File.SetUnixFileMode(app, (UnixFileMode)0b110_100_100);

        string? problem = UserAccess.FindProblem(app, Other, Other, UserAccess.Read);

        Assert.NotNull(problem);
        Assert.StartsWith(home + " ", problem, StringComparison.Ordinal);
        Assert.Contains("search", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void FindProblem_WorldReadableFileInSearchableDirectories_IsNone()
    {
        string app = Path.Combine(_root.FullName, "app.dll");
        File.WriteAllText(app, "");
        File.SetUnixFileMode(app, (UnixFileMode)0b110_100_100);

        Assert.Null(UserAccess.FindProblem(app, Other, Other, UserAccess.Read));
        Assert.NotNull(UserAccess.FindProblem(app, Other, Other, UserAccess.Read | UserAccess.Execute));
    }

    /// <summary>Giving a file to another group needs root.</summary>
    [OtherUserFact]
    public void FindProblem_GroupBitsApplyToTheUsersGroup()
    {
        string shared = Path.Combine(_root.FullName, "shared");
        File.WriteAllText(shared, "");
        File.SetUnixFileMode(shared, (UnixFileMode)0b110_100_000);
        Assert.Equal(0, Chown(shared, uint.MaxValue, Other));

        Assert.Null(UserAccess.FindProblem(shared, Other, Other, UserAccess.Read));
        Assert.NotNull(UserAccess.FindProblem(shared, Other + 1, Other + 1, UserAccess.Read));
    }

    [Fact]
    public void FindProblem_MissingPath_SaysSo() =>
        Assert.Contains("does not exist", UserAccess.FindProblem(Path.Combine(_root.FullName, "nothing"), Other, Other, UserAccess.Read), StringComparison.Ordinal);

    private static int Chown(string path, uint owner, int group) => Interop.Chown(path, owner, (uint)group);
}
