using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Pipes;
using System.Linq;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading;
using MessagePack;

namespace IpcChannel.Bench;

/// <summary>
/// One placement pass: this process is the parent (its mask is set by whoever started it), it starts the
/// child (same mask, or pinned to another CPU), runs every cross-process scenario against the child and the
/// C floor, then (same-CPU pass) the in-process ones, and writes its results as JSON.
/// </summary>
internal sealed class Runner : IDisposable
{
    private static readonly long[] s_fdCounts = [0, 1, 8, 64];

    private readonly Plan _plan;
    private readonly string _placement;
    private readonly int _childCpu;
    private readonly string? _cFloor;
    private readonly List<Result> _results = new();
    private readonly MessagePackSerializerOptions _mpOptions = IpcSerializerOptions.Default.MessagePackOptions;

    /// <summary>Profiling filter (--only): scenario, impl or "scenario:impl" names to run; null runs everything.</summary>
    private HashSet<string>? _only;

    /// <summary>Profiling filter (--sizes): sizes to run; null runs all.</summary>
    private HashSet<long>? _sizes;

    /// <summary>Scenario:impl pairs already warmed up once (the first warm-up is longer).</summary>
    private readonly HashSet<string> _warmedImpls = new();

    private Process? _child;
    private IpcReceiver<Boot>? _bootReceiver;
    private Boot? _boot;
    private int _seq = -1;
    private int _stream = -1;
    private int _fdSocket = -1;
    private Framer? _pipes;
    private Framer? _socket;
    private Framer? _msgpack;

    private Runner(Plan plan, string placement, int childCpu, string? cFloor)
    {
        _plan = plan;
        _placement = placement;
        _childCpu = childCpu;
        _cFloor = cFloor;
    }

    public static int Run(Dictionary<string, string> args)
    {
        Plan plan = Program.PlanFor(args["plan"]);
        if (args.TryGetValue("iterations", out string? forced))
        {
            // Profiling: the same count for every size, so the measured loop dominates a profile.
            int n = int.Parse(forced, CultureInfo.InvariantCulture);
            plan = plan with { SmallIterations = n, Iterations64K = n, Iterations1M = n, Iterations16M = n, FdIterations = n, RateCount = n };
        }

        string placement = args["runner"];
        int childCpu = int.Parse(args.GetValueOrDefault("child-cpu", "-1"), CultureInfo.InvariantCulture);
        string? cFloor = args.GetValueOrDefault("cfloor");
        string output = args["out"];
        using var watchdog = new Timer(_ =>
        {
            Console.Error.WriteLine($"runner {placement}: watchdog expired, giving up");
            Environment.Exit(4);
        }, null, TimeSpan.FromMinutes(plan.IsSmoke ? 3 : plan.Mode == "quick" ? 15 : 90), Timeout.InfiniteTimeSpan);

        using var runner = new Runner(plan, placement, childCpu, string.IsNullOrEmpty(cFloor) ? null : cFloor);
        if (args.TryGetValue("only", out string? only))
        {
            runner._only = only.Split(',').ToHashSet();
        }

        if (args.TryGetValue("sizes", out string? sizes))
        {
            runner._sizes = sizes.Split(',').Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToHashSet();
        }
        runner.RunAll(inProcess: args.ContainsKey("in-process"));
        File.WriteAllText(output, JsonSerializer.Serialize(runner._results, Program.JsonOptions));
        return 0;
    }

    private void RunAll(bool inProcess)
    {
        Log($"runner {_placement}: pid {Environment.ProcessId}, CPUs {Placement.CpusAllowed()}, child CPU {(_childCpu < 0 ? "same" : _childCpu.ToString(CultureInfo.InvariantCulture))}");

        // The C floor first, before this process holds any inheritable descriptor.
        if (_cFloor is not null && _only is null)
        {
            Guard("c floor", CFloorScenarios);
        }

        StartChild();
        try
        {
            foreach (long size in Plan.Sizes)
            {
                Guard($"round trip {size}", () => RoundTrips(size));
            }

            Guard("typed small", TypedSmall);
            Guard("rates", Rates);
            Guard("fds", Fds);
            Guard("shm", SharedMemory);
        }
        finally
        {
            StopChild();
        }

        if (inProcess)
        {
            InProcess.Run(_plan, _cFloor, _results, Log);
        }
    }

    // ------------------------------------------------------------------ the child

    private void StartChild()
    {
        (int seqParent, int seqChild) = Native.InheritablePair(Native.SOCK_SEQPACKET);
        (int streamParent, int streamChild) = Native.InheritablePair(Native.SOCK_STREAM);
        (int fdParent, int fdChild) = Native.InheritablePair(Native.SOCK_SEQPACKET);
        (int sockParent, int sockChild) = Native.InheritablePair(Native.SOCK_STREAM);
        (int mpParent, int mpChild) = Native.InheritablePair(Native.SOCK_STREAM);
        var pipeDown = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
        var pipeUp = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
        var server = new IpcOneShotServer<Boot>();

        ProcessStartInfo start = Placement.Self();
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        foreach (string arg in (string[])["--child", "--seq", $"{seqChild}", "--stream", $"{streamChild}", "--fdsock", $"{fdChild}",
                     "--sock", $"{sockChild}", "--mpsock", $"{mpChild}", "--pipe-in", pipeDown.GetClientHandleAsString(), "--pipe-out", pipeUp.GetClientHandleAsString()])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[Child.ServerVariable] = server.Name;
        _child = Placement.Start(start, _childCpu);
        foreach (int fd in (int[])[seqChild, streamChild, fdChild, sockChild, mpChild])
        {
            Native.Close(fd);
        }

        pipeDown.DisposeLocalCopyOfClientHandle();
        pipeUp.DisposeLocalCopyOfClientHandle();
        _seq = seqParent;
        _stream = streamParent;
        _fdSocket = fdParent;
        _pipes = new Framer(new PipeByteStream(pipeUp, pipeDown));
        _socket = new Framer(new SocketByteStream(new Socket(new SafeSocketHandle(sockParent, ownsHandle: true))));
        _msgpack = new Framer(new SocketByteStream(new Socket(new SafeSocketHandle(mpParent, ownsHandle: true))));
        using (server)
        {
            (_bootReceiver, _boot) = server.Accept(TimeSpan.FromSeconds(60));
        }

        Log($"runner {_placement}: child pid {_child.Id} runs on CPUs {_boot.CpusAllowed}");
    }

    private void StopChild()
    {
        if (_child is null)
        {
            return;
        }

        try
        {
            if (!_child.HasExited)
            {
                _child.StandardInput.WriteLine("quit");
                _child.StandardInput.Flush();
            }
        }
        catch (IOException)
        {
        }

        if (!_child.WaitForExit(30_000))
        {
            _child.Kill();
        }

        if (_child.ExitCode != 0)
        {
            _results.Add(new Result { Placement = _placement, Scenario = "child", Impl = "child", Error = $"the child exited with {_child.ExitCode}" });
        }
    }

    private void Command(string verb, string impl, long size, int count)
    {
        _child!.StandardInput.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{verb} {impl} {size} {count}"));
        _child.StandardInput.Flush();
    }

    private void WaitDone()
    {
        string? answer = _child!.StandardOutput.ReadLine();
        if (answer != "done")
        {
            throw new InvalidOperationException($"the child answered '{answer ?? "<end of output>"}'");
        }
    }

    // ------------------------------------------------------------------ measuring

    /// <summary>Warm-up (at least the plan's count and time), then one timed loop of single operations.</summary>
    private bool Wanted(string scenario, string impl, long size) =>
        (_only is null || _only.Contains(scenario) || _only.Contains(impl) || _only.Contains($"{scenario}:{impl}"))
        && (_sizes is null || _sizes.Contains(size));

    private Result Measure(string scenario, string impl, string childVerb, string childImpl, long size, int iterations, Action op)
    {
        if (!Wanted(scenario, impl, size))
        {
            return new Result { Placement = _placement, Scenario = scenario, Impl = impl, Size = size };
        }

        int chunk = Math.Max(_plan.IsSmoke ? 1 : 2, iterations / 10);
        int warmed = 0;
        long warmStart = Stopwatch.GetTimestamp();

        // The first loop of an implementation also waits for tiered compilation (call counting starts after
        // 100 ms without new tier-0 code, then tier-1 compiles on a background thread sharing this CPU):
        // without a longer first warm-up its mean carries the tier-0 round trips.
        double warmMilliseconds = !_plan.IsSmoke && _warmedImpls.Add($"{scenario}:{impl}") ? Math.Max(1000, _plan.WarmupMilliseconds) : _plan.WarmupMilliseconds;
        do
        {
            Command(childVerb, childImpl, size, chunk);
            for (int i = 0; i < chunk; i++)
            {
                op();
            }

            WaitDone();
            warmed += chunk;
        }
        while (Stopwatch.GetElapsedTime(warmStart).TotalMilliseconds < warmMilliseconds);

        double[] samples = new double[iterations];
        Command(childVerb, childImpl, size, iterations);
        GcSnapshot gc = GcSnapshot.Take();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < iterations; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            op();
            samples[i] = Stopwatch.GetTimestamp() - t0;
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Dictionary<string, double> gcDelta = gc.Delta(iterations);
        WaitDone();
        double toUs = 1e6 / Stopwatch.Frequency;
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] *= toUs;
        }

        Result result = Result.FromSamples(_placement, scenario, impl, size, samples, warmed);
        result.AllocBytesPerOp = (double)allocated / iterations;
        result.Extra = gcDelta;
        return Add(result);
    }

    private Result Add(Result result)
    {
        _results.Add(result);
        Log(result.ToString());
        return result;
    }

    private void Guard(string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log($"runner {_placement}: {what} failed: {e}");
            _results.Add(new Result { Placement = _placement, Scenario = what, Impl = "?", Error = $"{e.GetType().Name}: {e.Message}" });
            if (_child is { HasExited: true })
            {
                throw;
            }
        }
    }

    private static void Check(Result result, bool good, string what)
    {
        if (!good)
        {
            result.Error = $"wrong data came back: {what}";
        }
    }

    private static byte[] Payload(long size)
    {
        byte[] payload = new byte[size];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 7);
        }

        return payload;
    }

    // ------------------------------------------------------------------ scenarios

    private void RoundTrips(long size)
    {
        Boot boot = _boot!;
        byte[] payload = Payload(size);
        int n = _plan.IterationsFor(size);

        var writer = new ArrayBufferWriter<byte>((int)Math.Max(size, 256));
        Result r = Measure("roundtrip", "ipc-bytes", "echo", "ipc-bytes", size, n, () =>
        {
            boot.BytesDown.Send(payload);
            writer.ResetWrittenCount();
            boot.BytesUp.Receive(writer);
        });
        Check(r, writer.WrittenSpan.SequenceEqual(payload), "ipc-bytes");

        var blob = new Blob(1, payload);
        Blob? back = null;
        r = Measure("roundtrip", "ipc-typed", "echo", "ipc-typed", size, n, () =>
        {
            boot.BlobDown.Send(blob);
            back = boot.BlobUp.Receive();
        });
        Check(r, back is not null && back.Data.AsSpan().SequenceEqual(payload), "ipc-typed");
        back = null;

        byte[] buffer = new byte[Math.Max(size, 1)];
        if (size <= 65536)
        {
            int got = 0;
            r = Measure("roundtrip", "net-raw", "echo", "net-raw", size, n, () =>
            {
                Native.SendDatagram(_seq, payload);
                got = Native.ReceiveDatagram(_seq, buffer);
            });
            Check(r, got == size && buffer.AsSpan(0, got).SequenceEqual(payload), "net-raw");
            r.Note = "SOCK_SEQPACKET";
        }
        else
        {
            r = Measure("roundtrip", "net-raw", "echo", "net-raw", size, n, () =>
            {
                Native.SendAll(_stream, payload);
                Native.ReceiveExactly(_stream, buffer);
            });
            Check(r, buffer.AsSpan().SequenceEqual(payload), "net-raw");
            r.Note = "SOCK_STREAM";
        }

        StreamRoundTrip("pipes", _pipes!, payload, n);
        StreamRoundTrip("uds-socket", _socket!, payload, n);

        Blob? mpBack = null;
        r = Measure("roundtrip", "msgpack-socket", "echo", "msgpack-socket", size, n, () =>
        {
            _msgpack!.SendMessagePack(blob, _mpOptions);
            mpBack = _msgpack.ReceiveMessagePack<Blob>(_mpOptions);
        });
        Check(r, mpBack is not null && mpBack.Data.AsSpan().SequenceEqual(payload), "msgpack-socket");
    }

    private void StreamRoundTrip(string impl, Framer framer, byte[] payload, int n)
    {
        ReadOnlyMemory<byte> got = default;
        Result r = Measure("roundtrip", impl, "echo", impl, payload.Length, n, () =>
        {
            framer.Send(payload);
            got = framer.Receive();
        });
        Check(r, got.Span.SequenceEqual(payload), impl);
    }

    private void TypedSmall()
    {
        Boot boot = _boot!;
        var small = new Small(42, "hello from ipc-channel", [1, 2, 3, 4, 5, 6, 7, 8]);
        int serialized = MessagePackSerializer.Serialize(small, _mpOptions).Length;
        Small? back = null;
        Result r = Measure("roundtrip", "ipc-typed-small", "echo", "ipc-small", serialized, _plan.SmallIterations, () =>
        {
            boot.SmallDown.Send(small);
            back = boot.SmallUp.Receive();
        });
        Check(r, back == small || (back is not null && back.Id == small.Id && back.Name == small.Name && back.Data.AsSpan().SequenceEqual(small.Data)), "small record");
        r.Note = $"record(int, string[{small.Name.Length}], byte[8]) = {serialized} B of MessagePack";

        if (_cFloor is not null && _only is null)
        {
            double[] samples = RunC("pingpong", $"{serialized}", $"{_plan.WarmupIterationsFor(8)}", $"{_plan.SmallIterations}", $"{_childCpu}");
            Result c = Add(Result.FromSamples(_placement, "roundtrip", "c-raw-small", serialized, samples.Select(ns => ns / 1000).ToArray(), _plan.WarmupIterationsFor(8)));
            c.Note = "C SEQPACKET ping-pong at the small record's serialized size";
        }
    }

    private void Rates()
    {
        Boot boot = _boot!;
        byte[] payload = Payload(64);
        var writer = new ArrayBufferWriter<byte>(256);
        var blob = new Blob(1, payload);
        Rate("ipc-bytes", () => boot.BytesDown.Send(payload), () =>
        {
            writer.ResetWrittenCount();
            boot.BytesUp.Receive(writer);
        });
        Rate("ipc-typed", () => boot.BlobDown.Send(blob), () => boot.BlobUp.Receive());
        byte[] buffer = new byte[256];
        Rate("net-raw", () => Native.SendDatagram(_seq, payload), () => Native.ReceiveDatagram(_seq, buffer));
        Rate("pipes", () => _pipes!.Send(payload), () => _pipes!.Receive());
        Rate("uds-socket", () => _socket!.Send(payload), () => _socket!.Receive());
        Rate("msgpack-socket", () => _msgpack!.SendMessagePack(blob, _mpOptions), () => _msgpack!.ReceiveMessagePack<Blob>(_mpOptions));
    }

    private void Rate(string impl, Action send, Action waitReply)
    {
        if (!Wanted("rate", impl, 64))
        {
            return;
        }

        int count = _plan.RateCount;
        var batches = new List<double>();
        long allocated = 0;
        for (int b = 0; b <= _plan.RateBatches; b++)
        {
            Command("sink", impl, 64, count);
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < count; i++)
            {
                send();
            }

            waitReply();
            double elapsed = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            long a1 = GC.GetAllocatedBytesForCurrentThread();
            WaitDone();
            if (b > 0)
            {
                batches.Add(elapsed);
                allocated += a1 - a0;
            }
        }

        AddRate(impl, batches, count, allocated / ((double)count * _plan.RateBatches));
    }

    private void AddRate(string impl, List<double> batchMicroseconds, int count, double? alloc)
    {
        Result r = Result.FromSamples(_placement, "rate", impl, 64, batchMicroseconds.Select(us => us / count).ToArray(), count);
        r.Rate = 1e6 / r.MedianUs;
        r.Iterations = count * batchMicroseconds.Count;
        r.AllocBytesPerOp = alloc;
        r.Note = $"{batchMicroseconds.Count} batches of {count}; rate from the median batch";
        Add(r);
    }

    private void Fds()
    {
        Boot boot = _boot!;
        foreach (long n in s_fdCounts)
        {
            var receivers = new List<IpcReceiver<int>>();
            var senders = new List<IpcSender<int>>();
            for (int i = 0; i < n; i++)
            {
                (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
                senders.Add(tx);
                receivers.Add(rx);
            }

            var bag = new SenderBag(1, senders);
            Result r = Measure("fds", "ipc-typed", "fds", "ipc", n, _plan.FdIterations, () =>
            {
                boot.BagDown.Send(bag);
                bag = boot.BagUp.Receive();
            });
            Check(r, bag.Senders.Count == n, "sender count");
            if (n > 0)
            {
                // The senders went there and back: they must still reach their receivers.
                bag.Senders[^1].Send(7);
                Check(r, receivers[^1].TryReceive(TimeSpan.FromSeconds(5), out int seven) && seven == 7, "a returned sender does not work");
            }

            r.Note = $"SenderBag(int, List<IpcSender<int>>) with {n} senders";
            foreach (IpcSender<int> sender in bag.Senders)
            {
                sender.Dispose();
            }

            foreach (IpcReceiver<int> receiver in receivers)
            {
                receiver.Dispose();
            }

            // The same with raw sendmsg: 8 bytes and n descriptors, each side closing what it sent.
            int[] fds = new int[n];
            int[] peers = new int[n];
            for (int i = 0; i < n; i++)
            {
                (fds[i], peers[i]) = Native.InheritablePair(Native.SOCK_SEQPACKET);
                Native.Fcntl(peers[i], Native.F_SETFD, Native.FD_CLOEXEC);
            }

            int got = 0;
            r = Measure("fds", "net-raw", "fds", "net-raw", n, _plan.FdIterations, () =>
            {
                Native.SendFds(_fdSocket, fds);
                got = Native.ReceiveFds(_fdSocket, fds);
            });
            Check(r, got == n, "descriptor count");
            foreach (int fd in fds.Concat(peers))
            {
                Native.Close(fd);
            }
        }
    }

    private void SharedMemory()
    {
        Boot boot = _boot!;
        const int Size = 16 << 20;
        byte[] source = Payload(Size);
        long expected = Child.Checksum(source);
        long sum = 0;
        int id = 0;
        Result r = Measure("shm", "ipc-shm", "shm", "ipc", Size, _plan.Iterations16M, () =>
        {
            IpcSharedMemory memory = IpcSharedMemory.FromBytes(source);
            boot.ShmDown.Send(new ShmMessage(id++, memory));
            sum = boot.AckUp.Receive();
        });
        Check(r, sum == expected, "checksum");
        r.Note = "IpcSharedMemory.FromBytes(16 MiB) → send → child maps it and reads every byte (vector sum) → 8-byte ack";
    }

    private void CFloorScenarios()
    {
        foreach (long size in Plan.Sizes)
        {
            int n = _plan.IterationsFor(size);
            int warm = _plan.IsSmoke ? _plan.WarmupIterationsFor(size) : Math.Max(_plan.WarmupIterationsFor(size), size <= 1024 ? 1000 : 10);
            double[] ns = RunC("pingpong", $"{size}", $"{warm}", $"{n}", $"{_childCpu}");
            Result r = Add(Result.FromSamples(_placement, "roundtrip", "c-raw", size, ns.Select(x => x / 1000).ToArray(), warm));
            r.Note = size <= 65536 ? "SOCK_SEQPACKET" : "SOCK_STREAM";
        }

        // Information for src/: how else a large message could travel, same protocol shape (round trip).
        foreach (string strategy in (string[])["seqfrag", "seqfrag4m", "stream4m", "memfd", "memfdpool"])
        {
            foreach (long size in _plan.IsSmoke ? (long[])[1 << 20] : [1 << 20, 16 << 20])
            {
                int n = _plan.IterationsFor(size);
                int warm = Math.Max(_plan.WarmupIterationsFor(size), 3);
                double[] ns = RunC("large", strategy, $"{size}", $"{warm}", $"{n}", $"{_childCpu}");
                Add(Result.FromSamples(_placement, "strategy", "c-" + strategy, size, ns.Select(x => x / 1000).ToArray(), warm));
            }
        }

        double[] batches = RunC("rate", "64", $"{_plan.RateBatches}", $"{_plan.RateCount}", $"{_childCpu}");
        AddRate("c-raw", batches.Select(ns => ns / 1000).ToList(), _plan.RateCount, null);

        foreach (long n in s_fdCounts)
        {
            double[] ns = RunC("fds", $"{n}", $"{Math.Max(2, _plan.FdIterations / 10)}", $"{_plan.FdIterations}", $"{_childCpu}");
            Add(Result.FromSamples(_placement, "fds", "c-raw", n, ns.Select(x => x / 1000).ToArray(), Math.Max(2, _plan.FdIterations / 10)));
        }
    }

    private double[] RunC(params string[] args) => RunCFloor(_cFloor!, args);

    /// <summary>Runs the C floor (it inherits this thread's CPU mask) and reads its numbers, one a line.</summary>
    public static double[] RunCFloor(string path, params string[] args)
    {
        var start = new ProcessStartInfo { FileName = path, UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the C floor");
        var values = new List<double>();
        while (process.StandardOutput.ReadLine() is string line)
        {
            values.Add(double.Parse(line, CultureInfo.InvariantCulture));
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rawfloor {string.Join(' ', args)} exited with {process.ExitCode}");
        }

        return values.ToArray();
    }

    public static void Log(string line)
    {
        Console.Error.WriteLine(line);
    }

    public void Dispose()
    {
        _pipes?.Stream.Dispose();
        _socket?.Stream.Dispose();
        _msgpack?.Stream.Dispose();
        foreach (int fd in (int[])[_seq, _stream, _fdSocket])
        {
            if (fd >= 0)
            {
                Native.Close(fd);
            }
        }

        _bootReceiver?.Dispose();
        _child?.Dispose();
    }
}

/// <summary>The parent's GC activity over a measured loop (what dotnet-counters would show, per operation).</summary>
internal readonly record struct GcSnapshot(int Gen0, int Gen1, int Gen2, TimeSpan Pause)
{
    public static GcSnapshot Take() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    public Dictionary<string, double> Delta(int operations)
    {
        GcSnapshot now = Take();
        return new Dictionary<string, double>
        {
            ["gc0"] = now.Gen0 - Gen0,
            ["gc1"] = now.Gen1 - Gen1,
            ["gc2"] = now.Gen2 - Gen2,
            ["gc_pause_us_per_op"] = (now.Pause - Pause).TotalMicroseconds / Math.Max(1, operations),
        };
    }
}
