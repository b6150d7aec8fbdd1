using System;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Xunit;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>
/// Publishes tests/Supervisor.AotWorker with NativeAOT once for the tests that use it. The project is not in the
/// solution, so nothing else builds it while the tests run; its IpcChannel references are the assemblies the test
/// run already built (same configuration as this test assembly; <c>BuildProjectReferences=false</c>), and only its
/// own restore is redone for the runtime identifier (<c>RestoreRecursive=false</c>): the publish writes nothing the
/// other test projects use. About 20–60 s on the project's 2-CPU machine, the first time with the NativeAOT compiler
/// package's download.
/// </summary>
public sealed class AotWorkerFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"ipc-aot-worker-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>The published native executable.</summary>
    public string Executable => Path.Combine(_root, "IpcChannel.Supervisor.AotWorker");

    public async Task InitializeAsync()
    {
        string project = Path.Combine(RepositoryRoot(), "tests", "Supervisor.AotWorker", "IpcChannel.Supervisor.AotWorker.csproj");
        string configuration = typeof(AotWorkerFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string rid = RuntimeInformation.RuntimeIdentifier;
        await DotnetAsync("restore", project, "-r", rid, "-p:RestoreRecursive=false");

        // One thread for the native compiler, so that the test classes running beside it keep a core; no MSBuild node
        // or compiler server outlives the publish (they would hold its output pipes open).
        await DotnetAsync("publish", project, "--no-restore", "-c", configuration, "-r", rid, "-p:BuildProjectReferences=false",
            "-p:IlcSingleThreaded=true", "-p:UseSharedCompilation=false", "-nodeReuse:false", "-o", _root);
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"dotnet publish of the NativeAOT worker wrote no {Executable}.");
        }
    }

    private static async Task DotnetAsync(params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(args[0]);
        start.ArgumentList.Add("--nologo");
        foreach (string arg in args[1..])
        {
            start.ArgumentList.Add(arg);
        }

        // The test host's MSBuild variables would redirect the nested build; it must be a plain CLI run.
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment.Remove("MSBuildSDKsPath");
        start.Environment.Remove("MSBUILD_EXE_PATH");
        using Process dotnetProcess = Process.Start(start)!;
        Task<string> output = dotnetProcess.StandardOutput.ReadToEndAsync();
        Task<string> errors = dotnetProcess.StandardError.ReadToEndAsync();
        try
        {
            await dotnetProcess.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(8));
        }
        catch (TimeoutException)
        {
            dotnetProcess.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in 8 minutes; killed.");
        }

        if (dotnetProcess.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} failed (exit {dotnetProcess.ExitCode}):\n{await output}\n{await errors}");
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
