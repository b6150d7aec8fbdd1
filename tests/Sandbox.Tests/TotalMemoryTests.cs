using System;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;
using Xunit.Abstractions;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// Native memory is capped with the rest (RLIMIT_DATA, <see cref="SandboxOptions.MaxDataBytes"/>): the GC heap hard
/// limit alone lets a worker malloc without end.
/// </summary>
public sealed class TotalMemoryTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task NativeAllocationPastTheDataCap_Sandboxed_KillsTheWorker()
    {
        SandboxOptions options = SandboxedWorker.Strict(o =>
        {
            o.MaxGcHeapBytes = 128L << 20;
            o.MaxDataBytes = 256L << 20;
        });

        WorkerRun run = await SandboxedWorker.RunAsync(options, "native-alloc", ["1024"]);
        output.WriteLine(run.ToString());

        Assert.NotEqual(0, run.ExitCode);
        Assert.Empty(run.Lines("NATIVE"));
        Assert.Contains("exceeded its memory cap", run.Error, StringComparison.Ordinal);
    }

    /// <summary>The twin: without RLIMIT_DATA the same gigabyte of native memory is had, though the GC heap is capped at 128 MiB.</summary>
    [Fact(Timeout = 120_000)]
    public async Task NativeAllocationPastTheGcHeapCap_WithoutTheDataCap_Succeeds()
    {
        SandboxOptions options = SandboxedWorker.Strict(o =>
        {
            o.MaxGcHeapBytes = 128L << 20;
            o.MaxDataBytes = null;
        });

        WorkerRun run = await SandboxedWorker.RunAsync(options, "native-alloc", ["1024"]);
        output.WriteLine(run.ToString());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("1024 MiB", run.Lines("NATIVE").Single());
    }
}
