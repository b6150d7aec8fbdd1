using System;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;
using Xunit.Abstractions;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// Layer 2: a fork bomb stops at RLIMIT_NPROC (as an unprivileged user) or at the seccomp filter (as root), an
/// allocation past the GC heap cap ends the worker.
/// </summary>
public sealed class ResourceLimitTests(ITestOutputHelper output)
{
    private const int Nobody = 65534;
    private const int ForkAttempts = 300;

    /// <summary>
    /// Real root ignores RLIMIT_NPROC (and so does "root" in a user namespace mapped to real root), so the worker runs
    /// as nobody (setpriv before unshare): inside its user namespace it is root, on the host it is not. Seccomp's
    /// process-creation denial is loosened here, so that the limit itself is what stops the bomb.
    /// </summary>
    [OtherUserFact(Timeout = 120_000)]
    public async Task ForkBomb_SandboxedAsUnprivilegedUser_StopsAtTheProcessLimit()
    {
        SandboxOptions options = SandboxedWorker.Strict(o =>
        {
            o.RunAsUserId = Nobody;
            o.RunAsGroupId = Nobody;
            o.MaxProcesses = 64;
            o.AllowProcessCreation = true;
        });
        SandboxMachine machine = SandboxMachine.Detect(options);
        Assert.True(machine.NamespacesWork, machine.NamespacesProblem);

        // Nobody must be able to reach the program, wherever the checkout is.
        using var worker = new WorldReadableCopy(SandboxedWorker.WorkerProgram);
        WorkerRun run = await SandboxedWorker.RunAsync(options, "forkbomb", [ForkAttempts.ToString(CultureInfo.InvariantCulture)], machine: machine, program: worker.Program);
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        (int forks, int errno) = ParseForks(run);
        Assert.True(forks < 64, run.ToString());
        Assert.Equal(11, errno); // EAGAIN
    }

    /// <summary>
    /// As root (the worker is mapped to real root, which RLIMIT_NPROC ignores) the default sandbox stops the bomb at
    /// its first fork: clone without CLONE_THREAD is denied by seccomp with EPERM.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task ForkBomb_SandboxedAsRoot_FirstForkDeniedBySeccomp()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test proves the root case; run it as root");
        SandboxOptions options = SandboxedWorker.Strict();
        Assert.Null(options.RunAsUserId);
        Assert.False(options.AllowProcessCreation);

        WorkerRun run = await SandboxedWorker.RunAsync(options, "forkbomb", [ForkAttempts.ToString(CultureInfo.InvariantCulture)]);
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal((0, 1), ParseForks(run)); // EPERM
    }

    /// <summary>
    /// The twin: as root with process creation allowed, RLIMIT_NPROC (256 by default) does not hold, and every one of
    /// the 300 forks succeeds. This is why the filter denies it.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task ForkBomb_SandboxedAsRoot_AllowProcessCreation_ForksPastTheProcessLimit()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test proves the root case; run it as root");
        SandboxOptions options = SandboxedWorker.Strict(o => o.AllowProcessCreation = true);
        Assert.True(ForkAttempts > options.MaxProcesses);

        WorkerRun run = await SandboxedWorker.RunAsync(options, "forkbomb", [ForkAttempts.ToString(CultureInfo.InvariantCulture)]);
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal((ForkAttempts, 0), ParseForks(run));
    }

    [Fact(Timeout = 120_000)]
    public async Task ForkBomb_SandboxOff_ForksEveryTime()
    {
        WorkerRun run = await SandboxedWorker.RunAsync(SandboxedWorker.Off(), "forkbomb", [ForkAttempts.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal((ForkAttempts, 0), ParseForks(run));
    }

    [Fact(Timeout = 120_000)]
    public async Task AllocatePastTheMemoryCap_Sandboxed_WorkerDies()
    {
        WorkerRun run = await SandboxedWorker.RunAsync(SandboxedWorker.Strict(o => o.MaxGcHeapBytes = 64L << 20), "alloc", ["256"]);
        output.WriteLine(run.ToString());
        Assert.NotEqual(0, run.ExitCode);
        Assert.Empty(run.Lines("ALLOCATED"));
        Assert.Contains("exceeded its memory cap", run.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task AllocatePastTheMemoryCap_SandboxOff_Succeeds()
    {
        WorkerRun run = await SandboxedWorker.RunAsync(SandboxedWorker.Off(), "alloc", ["256"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("256 MiB", run.Lines("ALLOCATED").Single());
    }

    private static (int Forks, int Errno) ParseForks(WorkerRun run)
    {
        string[] parts = run.Lines("FORKS").Single().Split(' ');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1]["errno=".Length..], CultureInfo.InvariantCulture));
    }
}
