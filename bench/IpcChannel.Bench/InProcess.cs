using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace IpcChannel.Bench;

/// <summary>Figures measured inside one process: creation, allocations, receiver sets, memcpy, live channels.</summary>
internal static unsafe class InProcess
{
    private const string Placement = "in-process";

    public static void Run(Plan plan, string? cFloor, List<Result> results, Action<string> log)
    {
        void Add(Result r)
        {
            results.Add(r);
            log(r.ToString());
        }

        void Guard(string what, Action action)
        {
            try
            {
                action();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log($"in-process {what} failed: {e}");
                results.Add(new Result { Placement = Placement, Scenario = what, Impl = "?", Error = $"{e.GetType().Name}: {e.Message}" });
            }
        }

        Guard("create", () => Creation(plan, cFloor, Add));
        Guard("alloc", () => Allocations(plan, Add));
        Guard("select", () => Select(plan, Add));
        Guard("memcpy", () => Memcpy(plan, cFloor, Add));
        Guard("live-channels", () => Add(LiveChannelsInChild(plan.LiveChannels)));
    }

    /// <summary>Mean microseconds of <paramref name="op"/> over <paramref name="iterations"/>, after a warm-up.</summary>
    private static Result Time(string scenario, string impl, long size, int iterations, Action op)
    {
        int warm = Math.Max(2, iterations / 10);
        for (int i = 0; i < warm; i++)
        {
            op();
        }

        double[] samples = new double[iterations];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < iterations; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            op();
            samples[i] = Stopwatch.GetTimestamp() - t0;
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        double toUs = 1e6 / Stopwatch.Frequency;
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] *= toUs;
        }

        Result r = Result.FromSamples(Placement, scenario, impl, size, samples, warm);
        r.AllocBytesPerOp = (double)allocated / iterations;
        return r;
    }

    private static void Creation(Plan plan, string? cFloor, Action<Result> add)
    {
        int n = plan.CreateIterations;
        add(Time("create", "ipc-typed", 0, n, () =>
        {
            (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
            tx.Dispose();
            rx.Dispose();
        }));
        add(Time("create", "ipc-bytes", 0, n, () =>
        {
            (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
            tx.Dispose();
            rx.Dispose();
        }));
        add(Time("create", "net-raw", 0, n, () =>
        {
            int* fds = stackalloc int[2];
            if (Native.SocketPair(Native.AF_UNIX, Native.SOCK_SEQPACKET | Native.SOCK_CLOEXEC, 0, fds) != 0)
            {
                throw Native.Error("socketpair");
            }

            Native.Close(fds[0]);
            Native.Close(fds[1]);
        }));
        if (cFloor is not null)
        {
            double mean = Runner.RunCFloor(cFloor, "create", $"{Math.Max(2, n / 10)}", $"{n}")[0] / 1000;
            add(new Result { Placement = Placement, Scenario = "create", Impl = "c-raw", Iterations = n, MeanUs = mean, MedianUs = mean, P99Us = mean, Note = "mean only (one timed loop)" });
        }
    }

    /// <summary>Steady-state allocations of a bytes channel with a reused ArrayBufferWriter receive (send and receive on this thread).</summary>
    private static void Allocations(Plan plan, Action<Result> add)
    {
        foreach (long size in (long[])[8, 1024, 64 * 1024, 1 << 20])
        {
            (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
            using (tx)
            using (rx)
            {
                byte[] payload = new byte[size];
                var writer = new ArrayBufferWriter<byte>((int)Math.Max(size, 256));
                int n = size >= 1 << 20 ? Math.Max(5, plan.AllocMessages / 20) : plan.AllocMessages;
                Result r = Time("alloc", "ipc-bytes", size, n, () =>
                {
                    tx.Send(payload);
                    writer.ResetWrittenCount();
                    rx.Receive(writer);
                });
                r.Note = "Send(span) + Receive(ArrayBufferWriter) on one thread; alloc = managed bytes per message";
                add(r);
            }
        }

        (IpcSender<Small> stx, IpcReceiver<Small> srx) = Ipc.Channel<Small>();
        using (stx)
        using (srx)
        {
            var small = new Small(42, "hello from ipc-channel", [1, 2, 3, 4, 5, 6, 7, 8]);
            Result r = Time("alloc", "ipc-typed-small", 0, plan.AllocMessages, () =>
            {
                stx.Send(small);
                srx.Receive();
            });
            r.Note = "typed Send + Receive of the small record on one thread (the received record must be allocated)";
            add(r);
        }
    }

    /// <summary>N receivers in a set; send on M of them; select until M messages arrived.</summary>
    private static void Select(Plan plan, Action<Result> add)
    {
        foreach ((int m, int n) in ((int, int)[])[(1, 1), (1, 10), (10, 10), (1, 100), (100, 100)])
        {
            using var set = new IpcReceiverSet();
            var senders = new List<IpcSender<int>>();
            for (int i = 0; i < n; i++)
            {
                (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
                senders.Add(tx);
                set.Add(rx);
            }

            int iterations = Math.Max(5, plan.SelectIterations * 10 / (10 + m));
            Result r = Time("select", "ipc-typed", n, iterations, () =>
            {
                for (int i = 0; i < m; i++)
                {
                    senders[i].Send(i);
                }

                int received = 0;
                while (received < m)
                {
                    foreach (IpcSelectionResult selection in set.Select())
                    {
                        if (selection is IpcMessageReceived message)
                        {
                            message.Message.Dispose();
                            received++;
                        }
                    }
                }
            });
            r.Param = m;
            r.Note = $"{m} of {n} ready: {m} sends + selects until {m} messages";
            add(r);
            foreach (IpcSender<int> sender in senders)
            {
                sender.Dispose();
            }
        }
    }

    private static void Memcpy(Plan plan, string? cFloor, Action<Result> add)
    {
        const int Size = 16 << 20;
        byte[] a = new byte[Size];
        byte[] b = new byte[Size];
        a.AsSpan().Fill(1);
        b.AsSpan().Fill(2);
        int n = Math.Max(3, plan.Iterations16M * 2);
        Result r = Time("memcpy", "net-memcpy", Size, n, () => a.AsSpan().CopyTo(b));
        r.Note = "Span.CopyTo of 16 MiB between two warm arrays";
        add(r);
        if (cFloor is not null)
        {
            double mean = Runner.RunCFloor(cFloor, "memcpy", $"{Size}", "3", $"{n}")[0] / 1000;
            add(new Result { Placement = Placement, Scenario = "memcpy", Impl = "c-memcpy", Size = Size, Iterations = n, MeanUs = mean, MedianUs = mean, P99Us = mean, Note = "C memcpy, mean only" });
        }

        r = Time("shm-fill", "ipc-shm", Size, n, () => IpcSharedMemory.FromBytes(a).Dispose());
        r.Note = "IpcSharedMemory.FromBytes(16 MiB) then Dispose, in one process (the sender's share of the shm figure)";
        add(r);
    }

    private static Result LiveChannelsInChild(int count)
    {
        ProcessStartInfo start = Bench.Placement.Self();
        start.ArgumentList.Add("--live");
        start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        start.RedirectStandardOutput = true;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the live-channels child");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"the live-channels child exited with {process.ExitCode}");
        }

        return JsonSerializer.Deserialize<Result>(output.Trim(), Program.JsonOptions) ?? throw new InvalidOperationException("no result");
    }

    /// <summary>In its own process: opens <paramref name="count"/> typed channels, checks each works, reports fds and memory.</summary>
    public static int LiveChannels(int count)
    {
        // Warm every code path first: with the descriptor table nearly full the runtime could not even open an
        // assembly file (it fails with FileNotFoundException).
        (IpcSender<int> warmTx, IpcReceiver<int> warmRx) = Ipc.Channel<int>();
        warmTx.Send(1);
        warmRx.TryReceive(out int _);
        warmTx.Dispose();
        warmRx.Dispose();
        var result = new Result { Placement = Placement, Scenario = "live-channels", Impl = "ipc-typed", Size = count, Iterations = 1 };
        int fds0 = CountFds();

        // Two descriptors per channel; keep 128 spare. Without CAP_SYS_RESOURCE the hard limit cannot be raised.
        ulong limit = Native.RaiseFileLimit((ulong)(count * 2) + (ulong)fds0 + 128);
        int target = (int)Math.Min(count, ((long)limit - fds0 - 128) / 2);
        string? limited = target < count
            ? $"RLIMIT_NOFILE is {limit} here (hard limit, not raisable without CAP_SYS_RESOURCE): {target:N0} channels fit, not {count:N0}"
            : null;
        long rss0 = Rss();
        long heap0 = GC.GetTotalMemory(forceFullCollection: true);
        long slab0 = SlabBytes();
        var channels = new List<(IpcSender<int>, IpcReceiver<int>)>(count);
        long t0 = Stopwatch.GetTimestamp();
        string? error = null;
        try
        {
            for (int i = 0; i < target; i++)
            {
                channels.Add(Ipc.Channel<int>());
            }
        }
        catch (IpcException e)
        {
            error = $"stopped at {channels.Count} channels: {e.Message} (RLIMIT_NOFILE {limit})";
        }

        double createUs = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        int fds1 = CountFds();
        long rss1 = Rss();
        long heap1 = GC.GetTotalMemory(forceFullCollection: true);
        long slab1 = SlabBytes();
        t0 = Stopwatch.GetTimestamp();
        int working = 0;
        foreach ((IpcSender<int> tx, IpcReceiver<int> rx) in channels)
        {
            tx.Send(working);
            if (rx.TryReceive(out int value) && value == working)
            {
                working++;
            }
        }

        double messageUs = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        t0 = Stopwatch.GetTimestamp();
        foreach ((IpcSender<int> tx, IpcReceiver<int> rx) in channels)
        {
            tx.Dispose();
            rx.Dispose();
        }

        double disposeUs = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        int live = channels.Count;
        result.MeanUs = result.MedianUs = result.P99Us = createUs / Math.Max(1, live);
        result.Extra = new Dictionary<string, double>
        {
            ["channels"] = live,
            ["working"] = working,
            ["fds_before"] = fds0,
            ["fds_after"] = fds1,
            ["fds_per_channel"] = (double)(fds1 - fds0) / Math.Max(1, live),
            ["rss_delta_bytes"] = rss1 - rss0,
            ["rss_bytes_per_channel"] = (double)(rss1 - rss0) / Math.Max(1, live),
            ["managed_bytes_per_channel"] = (double)(heap1 - heap0) / Math.Max(1, live),
            ["kernel_slab_delta_bytes"] = slab1 - slab0,
            ["create_us_per_channel"] = createUs / Math.Max(1, live),
            ["message_us_per_channel"] = messageUs / Math.Max(1, live),
            ["dispose_us_per_channel"] = disposeUs / Math.Max(1, live),
            ["rlimit_nofile"] = limit,
        };
        if (error is not null || working != target)
        {
            result.Error = error ?? $"only {working} of {target} channels carried a message";
        }

        result.Note = (limited is null ? "" : limited + ". ") + "Ipc.Channel<int>() × N kept open; one message through each; kernel slab delta is machine-wide";
        Console.Out.WriteLine(JsonSerializer.Serialize(result, Program.JsonOptions));
        return 0;
    }

    private static int CountFds() => Directory.GetFiles("/proc/self/fd").Length;

    private static long Rss()
    {
        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    private static long SlabBytes()
    {
        string? line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("Slab:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
