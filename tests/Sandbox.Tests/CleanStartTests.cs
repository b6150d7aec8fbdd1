using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// Layer 1: the worker keeps only the environment it needs, runs in its private directory, inherits no stray
/// descriptor, dumps no core and holds no capability; rlimits are in place.
/// </summary>
public sealed partial class CleanStartTests
{
    private const string SecretVariable = "SANDBOX_TEST_SUPERVISOR_SECRET";
    private const string GivenVariable = "SANDBOX_TEST_GIVEN";

    [Fact(Timeout = 120_000)]
    public async Task Sandboxed_EnvironmentDirectoryDescriptorsLimitsAndCapabilitiesAreReduced()
    {
        (int stray, int given) = OpenInheritableDescriptors();
        try
        {
            WorkerRun run = await RunEnvAsync(SandboxedWorker.Strict(o =>
            {
                o.InheritedFileDescriptors.Add(given);
                o.MaxOpenFiles = 512;
                o.MaxProcesses = 200;
                o.MaxFileSizeBytes = 64L << 20;
            }));

            var variables = run.Lines("ENV").ToHashSet(StringComparer.Ordinal);
            Assert.DoesNotContain(SecretVariable, variables);
            Assert.Contains(GivenVariable, variables);
            Assert.DoesNotContain("IPCCHANNEL_SANDBOX_CONFIG", variables);
            Assert.Contains("DOTNET_GCHeapHardLimit", variables);
            Assert.True(variables.IsSubsetOf(["PATH", "LANG", "LC_ALL", "TZ", "DOTNET_ROOT", "TMPDIR", "HOME", "DOTNET_GCHeapHardLimit", "DOTNET_EnableDiagnostics", GivenVariable]), run.ToString());

            string directory = run.Lines("CWD").Single();
            Assert.StartsWith(SandboxedWorker.WorkerRoot + "/", directory, StringComparison.Ordinal);
            Assert.Equal(directory + "/", run.Lines("TMP").Single());

            var fds = run.Lines("FD").Select(line => line.Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
            Assert.DoesNotContain(stray.ToString(System.Globalization.CultureInfo.InvariantCulture), fds);
            Assert.Contains(given.ToString(System.Globalization.CultureInfo.InvariantCulture), fds);

            string[] limits = run.Lines("LIMIT").ToArray();
            Assert.Contains(limits, l => l.StartsWith("Max open files", StringComparison.Ordinal) && l.Contains(" 512 ", StringComparison.Ordinal));
            Assert.Contains(limits, l => l.StartsWith("Max processes", StringComparison.Ordinal) && l.Contains(" 200 ", StringComparison.Ordinal));
            Assert.Contains(limits, l => l.StartsWith("Max file size", StringComparison.Ordinal) && l.Contains(" 67108864 ", StringComparison.Ordinal));
            Assert.Contains(limits, l => l.StartsWith("Max core file size", StringComparison.Ordinal) && l.Contains(" 0 ", StringComparison.Ordinal));

            Assert.Contains("CapEff:\t0000000000000000", run.Lines("STATUS"));
            Assert.Contains("CapBnd:\t0000000000000000", run.Lines("STATUS"));
            Assert.Equal("0", run.Lines("DUMPABLE").Single());
        }
        finally
        {
            CloseFd(stray);
            CloseFd(given);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task SandboxOff_WorkerSeesTheSupervisorsEnvironmentAndDescriptors()
    {
        (int stray, int given) = OpenInheritableDescriptors();
        try
        {
            WorkerRun run = await RunEnvAsync(SandboxedWorker.Off());
            var fds = run.Lines("FD").Select(line => line.Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
            Assert.Contains(stray.ToString(System.Globalization.CultureInfo.InvariantCulture), fds);
            Assert.Equal("1", run.Lines("DUMPABLE").Single());
            Assert.DoesNotContain("CapEff:\t0000000000000000", run.Lines("STATUS"));
        }
        finally
        {
            CloseFd(stray);
            CloseFd(given);
        }
    }

    private static async Task<WorkerRun> RunEnvAsync(Supervisor.Sandbox.SandboxOptions options)
    {
        WorkerRun run = await SandboxedWorker.RunAsync(
            options,
            "env",
            environment: new Dictionary<string, string> { [GivenVariable] = "given" },
            extraInherited: new Dictionary<string, string> { [SecretVariable] = "must not reach the worker" });
        Assert.True(run.ExitCode == 0, run.ToString());
        return run;
    }

    /// <summary>Two descriptors without FD_CLOEXEC, as a careless supervisor might leak them (at 200+, out of everyone's way).</summary>
    private static (int Stray, int Given) OpenInheritableDescriptors()
    {
        int devNull = Open("/dev/null", 0);
        int stray = Fcntl(devNull, 0 /* F_DUPFD */, 200 + Random.Shared.Next(100));
        int given = Fcntl(devNull, 0 /* F_DUPFD */, 400 + Random.Shared.Next(100));
        CloseFd(devNull);
        Assert.True(stray > 0 && given > 0);
        return (stray, given);
    }

    private static void CloseFd(int fd) => Assert.Equal(0, Close(fd));

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl")]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
