using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel;
using IpcChannel.Supervisor.Sandbox;

namespace IpcChannel.Sandbox.TestWorker;

/// <summary>The scenarios; each prints its facts on stdout and returns the exit code.</summary>
internal static class Scenarios
{
    public static async Task<int> RunAsync(string name, string[] args, ParkedThread early, SandboxStatus status)
    {
        return name switch
        {
            "probes" => await ProbesAsync(args, early).ConfigureAwait(false),
            "noop" => 0,
            "threads" => await ThreadsAsync(early).ConfigureAwait(false),
            "env" => Env(),
            "forkbomb" => ForkBomb(int.Parse(args[0], CultureInfo.InvariantCulture)),
            "alloc" => Alloc(int.Parse(args[0], CultureInfo.InvariantCulture)),
            "native-alloc" => TotalsScenarios.NativeAlloc(int.Parse(args[0], CultureInfo.InvariantCulture)),
            "thread-bomb" => TotalsScenarios.Threads(int.Parse(args[0], CultureInfo.InvariantCulture)),
            "fds-hold" => TotalsScenarios.HoldInFlight(int.Parse(args[0], CultureInfo.InvariantCulture)),
            "fds-send" => TotalsScenarios.SendOne(),
            "disk" => Disk(int.Parse(args[0], CultureInfo.InvariantCulture)),
            "channel" => await ChannelAsync(status).ConfigureAwait(false),
            _ => throw new ArgumentException($"unknown scenario '{name}'"),
        };
    }

    /// <summary>
    /// Runs each probe (<c>name[:arg[:arg...]]</c>) on the main thread, the thread started before stage 2, a new
    /// thread and a thread-pool thread; prints <c>RESULT &lt;probe&gt; &lt;context&gt; &lt;outcome&gt;</c>.
    /// </summary>
    private static async Task<int> ProbesAsync(string[] specs, ParkedThread early)
    {
        // Nothing has awaited yet: this runs on the main thread.
        var onMain = new List<string>();
        foreach (string spec in specs)
        {
            (string name, Func<string> probe) = Parse(spec);
            onMain.Add($"RESULT {name} main {probe()}");
        }

        onMain.ForEach(Console.WriteLine);
        foreach (string spec in specs)
        {
            (string name, Func<string> probe) = Parse(spec);
            Console.WriteLine($"RESULT {name} early-thread {await early.RunAsync(probe).ConfigureAwait(false)}");

            string? fromNewThread = null;
            var thread = new Thread(() => fromNewThread = probe()) { Name = "new-thread" };
            thread.Start();
            thread.Join();
            Console.WriteLine($"RESULT {name} new-thread {fromNewThread}");

            string fromPool = await Task.Run(() =>
                Thread.CurrentThread.IsThreadPoolThread ? probe() : throw new InvalidOperationException("Task.Run did not run on the thread pool")).ConfigureAwait(false);
            Console.WriteLine($"RESULT {name} thread-pool {fromPool}");
        }

        return 0;
    }

    /// <summary>Parses <c>[label@]probe[:arg...]</c>; the label (default: the probe's name) names the result.</summary>
    private static (string Name, Func<string> Probe) Parse(string spec)
    {
        string[] parts = spec.Split(':');
        int at = parts[0].IndexOf('@', StringComparison.Ordinal);
        string label = at < 0 ? parts[0] : parts[0][..at];
        string name = parts[0][(at + 1)..];
        Func<string[], string> probe = Probes.All.TryGetValue(name, out Func<string[], string>? found)
            ? found
            : throw new ArgumentException($"unknown probe '{name}'");
        string[] args = parts[1..];
        return (label, () => probe(args));
    }

    /// <summary>Real runtime work under the filter, then every thread's seccomp and no_new_privs state.</summary>
    private static async Task<int> ThreadsAsync(ParkedThread early)
    {
        // Thread pool, GC, Console, timers and the socket engine's epoll thread all run after the filter went in.
        long sum = 0;
        Parallel.For(0, 64, i => Interlocked.Add(ref sum, Enumerable.Range(0, 10_000).Sum(x => (long)x % (i + 1))));
        var garbage = new List<byte[]>();
        for (int i = 0; i < 200; i++)
        {
            garbage.Add(new byte[64 * 1024]);
        }

        garbage.Clear();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using (var timerFired = new SemaphoreSlim(0))
        using (new Timer(_ => timerFired.Release(), null, 10, Timeout.Infinite))
        {
            await timerFired.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        (IpcSender<string> tx, IpcReceiver<string> rx) = Ipc.Channel<string>();
        using (tx)
        using (rx)
        {
            tx.Send("through the socket engine");
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Console.WriteLine($"WORK sum={sum} gc={GC.CollectionCount(2)} channel='{await rx.ReceiveAsync(cts.Token).ConfigureAwait(false)}'");
        }

        // A thread made after stage 2 must show up restricted too, and the early thread must still be alive.
        string earlyTid = await early.RunAsync(() => Native.GetTid().ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        string poolTid = await Task.Run(() => Native.GetTid().ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        using var holdNewThread = new ManualResetEventSlim();
        using var lateStarted = new ManualResetEventSlim();
        int lateTid = 0;
        var late = new Thread(() =>
        {
            lateTid = Native.GetTid();
            lateStarted.Set();
            holdNewThread.Wait();
        })
        { Name = "late-thread", IsBackground = true };
        late.Start();
        if (!lateStarted.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("the late thread did not start within 30 s");
        }
        Console.WriteLine($"TIDS early={earlyTid} pool={poolTid} late={lateTid}");
        try
        {
            foreach (string task in Directory.GetDirectories("/proc/self/task"))
            {
                string[] lines;
                try
                {
                    lines = File.ReadAllLines(Path.Combine(task, "status"));
                }
                catch (IOException)
                {
                    continue;
                }

                string Field(string key) => lines.FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal))?[(key.Length + 1)..].Trim() ?? "?";
                Console.WriteLine($"THREAD tid={Path.GetFileName(task)} seccomp={Field("Seccomp")} filters={Field("Seccomp_filters")} nnp={Field("NoNewPrivs")} capeff={Field("CapEff")} name={Field("Name")}");
            }
        }
        finally
        {
            holdNewThread.Set();
        }

        return 0;
    }

    /// <summary>What the clean start left: working directory, environment, descriptors, limits, dumpable.</summary>
    private static int Env()
    {
        Console.WriteLine($"CWD {Directory.GetCurrentDirectory()}");
        Console.WriteLine($"TMP {Path.GetTempPath()}");
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Order(StringComparer.Ordinal))
        {
            Console.WriteLine($"ENV {name}");
        }

        foreach (string fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string target;
            try
            {
                target = new FileInfo(fd).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                target = "?";
            }

            Console.WriteLine($"FD {Path.GetFileName(fd)} {target}");
        }

        foreach (string line in File.ReadAllLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal) || line.StartsWith("Max processes", StringComparison.Ordinal)
                || line.StartsWith("Max file size", StringComparison.Ordinal) || line.StartsWith("Max core file size", StringComparison.Ordinal))
            {
                Console.WriteLine($"LIMIT {line}");
            }
        }

        foreach (string line in File.ReadAllLines("/proc/self/status"))
        {
            if (line.StartsWith("Cap", StringComparison.Ordinal) || line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                Console.WriteLine($"STATUS {line}");
            }
        }

        Console.WriteLine($"DUMPABLE {Prctl(3)}");
        return 0;
    }

    /// <summary>Forks children that exit at once (never reaped until the end, so each holds its slot) until fork fails.</summary>
    private static unsafe int ForkBomb(int max)
    {
        // The child runs libc's _exit directly on a private stack: no managed code after the fork.
        nint exit = NativeLibrary.GetExport(NativeLibrary.Load("libc.so.6"), "_exit");
        const int StackSize = 64 * 1024;
        byte* stack = (byte*)NativeMemory.AlignedAlloc(StackSize, 16);
        var children = new List<int>();
        int errno = 0;
        try
        {
            for (int i = 0; i < max; i++)
            {
                int pid = Native.Clone(exit, stack + StackSize, Native.SIGCHLD, 0);
                if (pid < 0)
                {
                    errno = Native.Errno();
                    break;
                }

                children.Add(pid);
            }

            Console.WriteLine($"FORKS {children.Count} errno={errno}");
        }
        finally
        {
            foreach (int child in children)
            {
                int status;
                Native.WaitPid(child, &status, 0);
            }

            NativeMemory.AlignedFree(stack);
        }

        return 0;
    }

    /// <summary>Allocates and touches <paramref name="megabytes"/> MiB, keeping all of it alive.</summary>
    private static int Alloc(int megabytes)
    {
        var kept = new List<byte[]>();
        for (int i = 0; i < megabytes; i++)
        {
            byte[] block = new byte[1 << 20];
            block.AsSpan().Fill((byte)i);
            kept.Add(block);
        }

        Console.WriteLine($"ALLOCATED {kept.Count} MiB");
        GC.KeepAlive(kept);
        return 0;
    }

    /// <summary>
    /// Writes up to <paramref name="megabytes"/> MiB into one file of the private directory (TMPDIR), 1 MiB at a time
    /// and flushed each time, until a write fails; prints how far it got and why it stopped, then removes the file.
    /// </summary>
    private static int Disk(int megabytes)
    {
        string path = Path.Combine(Path.GetTempPath(), "fill");
        byte[] block = new byte[1 << 20];
        block.AsSpan().Fill(0x5A);
        int written = 0;
        string error = "none";
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            for (; written < megabytes; written++)
            {
                file.Write(block);
            }
        }
        catch (IOException e)
        {
            error = $"{e.GetType().Name} HResult={e.HResult & 0xFFFF}: {e.Message}";
        }
        finally
        {
            File.Delete(path);
        }

        Console.WriteLine($"DISK written={written} error={error}");
        return 0;
    }

    /// <summary>
    /// A typed round trip with the test over IpcOneShotServer: a new channel and shared memory each way. Sandboxed, the
    /// connection is the one stage 1 opened (the launch names SANDBOX_TEST_SERVER as its server variable); otherwise the
    /// worker connects by name.
    /// </summary>
    private static async Task<int> ChannelAsync(SandboxStatus status)
    {
        string server = Environment.GetEnvironmentVariable("SANDBOX_TEST_SERVER") ?? throw new InvalidOperationException("SANDBOX_TEST_SERVER is not set");
        Console.WriteLine($"CONNECTION {(status.Connection is null ? "by-name" : "from-stage-1")}");
        using var toTest = status.Connection is { } connection
            ? IpcSender<WorkerHello>.AdoptConnection(connection, IpcSerializerOptions.Default)
            : IpcSender<WorkerHello>.Connect(server);
        (IpcSender<TestReply> inbox, IpcReceiver<TestReply> replies) = Ipc.Channel<TestReply>();
        using (replies)
        {
            using var blob = IpcSharedMemory.FromByte(42, 1 << 20);
            toTest.Send(new WorkerHello(Environment.ProcessId, inbox, blob));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            TestReply reply = await replies.ReceiveAsync(cts.Token).ConfigureAwait(false);
            using IpcSharedMemory theirs = reply.Blob;
            long sum = 0;
            foreach (byte b in theirs.Span)
            {
                sum += b;
            }

            Console.WriteLine($"CHANNEL text='{reply.Text}' blob={theirs.Length} sum={sum}");
        }

        return 0;
    }

    private static int Prctl(int option) => Native.Prctl(option, 0, 0, 0, 0);
}
