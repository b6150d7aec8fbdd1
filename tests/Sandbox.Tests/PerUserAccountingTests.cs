using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;
using Xunit.Abstractions;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// What a user of its own per worker separates, with real sandboxed workers run as host users of the tests' range:
/// descriptors in flight (counted per real user against the sender's RLIMIT_NOFILE) and threads (RLIMIT_NPROC, which
/// does not bind root). Each has its twin with the user shared.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PerUserAccountingTests(OtherUserWorker worker, ITestOutputHelper output) : IClassFixture<OtherUserWorker>
{
    private const int Hog = OtherUserWorker.FirstUserId;
    private const int Sibling = OtherUserWorker.FirstUserId + 1;
    private const int ThreadUser = OtherUserWorker.FirstUserId + 2;

    /// <summary>More than the default RLIMIT_NOFILE (1024): the kernel lets a sender go past it by one message.</summary>
    private const int InFlight = 1250;

    private const int ETOOMANYREFS = 109;
    private const int EAGAIN = 11;

    [OtherUserFact(Timeout = 180_000)]
    public async Task DescriptorsInFlight_HeldByAWorkerOfAnotherUser_DoNotStopASiblingPassingDescriptors()
    {
        (int held, int siblingErrno) = await HoldThenSendAsync(hogUser: Hog, siblingUser: Sibling);

        Assert.True(held >= 1000, $"the hog queued only {held} descriptors");
        Assert.Equal(0, siblingErrno);
    }

    /// <summary>The twin: the same two workers as one user — the sibling's first descriptor fails, as a restarted worker's hello did.</summary>
    [OtherUserFact(Timeout = 180_000)]
    public async Task DescriptorsInFlight_HeldByAWorkerOfTheSameUser_MakeTheSiblingsSendFailWithTooManyReferences()
    {
        (int held, int siblingErrno) = await HoldThenSendAsync(hogUser: Hog, siblingUser: Hog);

        Assert.True(held >= 1000, $"the hog queued only {held} descriptors");
        Assert.Equal(ETOOMANYREFS, siblingErrno);
    }

    [OtherUserFact(Timeout = 120_000)]
    public async Task TenThousandThreads_AsAUserOfItsOwn_StopAtTheProcessLimit()
    {
        SandboxOptions options = AsUser(ThreadUser);
        Assert.Equal(SandboxOptions.DefaultMaxProcesses, options.MaxProcesses);

        WorkerRun run = await SandboxedWorker.RunAsync(options, "thread-bomb", ["10000"], program: worker.Program);
        output.WriteLine(run.ToString());

        Assert.True(run.ExitCode == 0, run.ToString());
        (int threads, int error) = ParseThreads(run);
        Assert.True(threads < SandboxOptions.DefaultMaxProcesses, run.ToString());
        Assert.Equal(EAGAIN, error);
    }

    /// <summary>The twin: as the shared root user RLIMIT_NPROC does not bind, and more threads than the limit start (bounded at 400).</summary>
    [OtherUserFact(Timeout = 120_000)]
    public async Task Threads_AsTheSharedRootUser_StartPastTheProcessLimit()
    {
        SandboxOptions options = SandboxedWorker.Strict();
        Assert.Null(options.RunAsUserId);
        const int Threads = 400;
        Assert.True(Threads > options.MaxProcesses);

        WorkerRun run = await SandboxedWorker.RunAsync(options, "thread-bomb", [Threads.ToString(CultureInfo.InvariantCulture)]);
        output.WriteLine(run.ToString());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal((Threads, 0), ParseThreads(run));
    }

    /// <summary>
    /// Starts a sandboxed hog that queues <see cref="InFlight"/> descriptors and holds them, then a sandboxed sibling
    /// that sends one descriptor; returns how many the hog holds and the sibling's errno. The hog is killed after.
    /// </summary>
    private async Task<(int Held, int SiblingErrno)> HoldThenSendAsync(int hogUser, int siblingUser)
    {
        var holding = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Process? hog = null;
        Task<WorkerRun> hogRun = SandboxedWorker.RunAsync(
            AsUser(hogUser),
            "fds-hold",
            [InFlight.ToString(CultureInfo.InvariantCulture)],
            timeout: TimeSpan.FromSeconds(150),
            started: process => hog = process,
            program: worker.Program,
            outputLine: line =>
            {
                if (line.StartsWith("INFLIGHT ", StringComparison.Ordinal))
                {
                    holding.TrySetResult(line);
                }
            });
        try
        {
            Task first = await Task.WhenAny(holding.Task, hogRun).WaitAsync(TimeSpan.FromSeconds(90));
            if (first != holding.Task)
            {
                throw new InvalidOperationException($"the hog ended before it held anything: {await hogRun}");
            }

            string held = await holding.Task;
            output.WriteLine($"hog (user {hogUser}): {held}");

            WorkerRun sibling = await SandboxedWorker.RunAsync(AsUser(siblingUser), "fds-send", program: worker.Program);
            output.WriteLine($"sibling (user {siblingUser}): {sibling}");
            Assert.True(sibling.ExitCode == 0, sibling.ToString());
            string sent = sibling.Lines("SENT").Single();
            return (int.Parse(held.Split(' ')[1], CultureInfo.InvariantCulture), int.Parse(sent["errno=".Length..], CultureInfo.InvariantCulture));
        }
        finally
        {
            hog?.Kill(entireProcessTree: true);
            WorkerRun ended = await hogRun.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(ended.KilledBySignal, ended.ToString());
        }
    }

    private static SandboxOptions AsUser(int userId) => SandboxedWorker.Strict(o =>
    {
        o.RunAsUserId = userId;
        o.RunAsGroupId = OtherUserWorker.FirstUserId;
    });

    private static (int Threads, int Error) ParseThreads(WorkerRun run)
    {
        string[] parts = run.Lines("THREADS").Single().Split(' ');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1]["error=".Length..], CultureInfo.InvariantCulture));
    }
}
