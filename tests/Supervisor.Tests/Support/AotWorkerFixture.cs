using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using Xunit;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>
/// Publishes tests/Supervisor.AotWorker with NativeAOT once for the tests that use it (about a minute on the
/// project's 2-CPU machine). Everything the publish writes, intermediate files included, goes to a private temporary
/// directory (<c>--artifacts-path</c>), so it never touches the repository's build outputs the other tests run from.
/// </summary>
public sealed class AotWorkerFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"ipc-aot-worker-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>The published native executable.</summary>
    public string Executable => Path.Combine(_root, "out", "IpcChannel.Supervisor.AotWorker");

    public async Task InitializeAsync()
    {
        string project = Path.Combine(RepositoryRoot(), "tests", "Supervisor.AotWorker", "IpcChannel.Supervisor.AotWorker.csproj");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "publish", project, "-c", "Release", "-r", "linux-x64", "--nologo",
            "--artifacts-path", Path.Combine(_root, "artifacts"), "-o", Path.Combine(_root, "out"),
        })
        {
            start.ArgumentList.Add(arg);
        }

        // The test host's MSBuild variables would redirect the nested build; it must be a plain CLI run.
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment.Remove("MSBuildSDKsPath");
        start.Environment.Remove("MSBUILD_EXE_PATH");
        using Process publish = Process.Start(start)!;
        Task<string> output = publish.StandardOutput.ReadToEndAsync();
        Task<string> errors = publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(8));
        if (publish.ExitCode != 0 || !File.Exists(Executable))
        {
            throw new InvalidOperationException($"dotnet publish of the NativeAOT worker failed (exit {publish.ExitCode}):\n{await output}\n{await errors}");
        }
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "IpcChannel.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No IpcChannel.sln above {AppContext.BaseDirectory}.");
    }
}
