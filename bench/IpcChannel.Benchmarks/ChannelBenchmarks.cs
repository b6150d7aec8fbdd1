using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace IpcChannel.Benchmarks;

/// <summary>Channel creation against a raw socketpair and two closes.</summary>
[MemoryDiagnoser]
public unsafe partial class CreationBenchmarks
{
    [Benchmark(Baseline = true, Description = "socketpair(SEQPACKET) + 2 close (P/Invoke)")]
    public int RawSocketPair()
    {
        int* fds = stackalloc int[2];
        int result = SocketPair(1, 5 | 0x80000, 0, fds);
        return result + Close(fds[0]) + Close(fds[1]);
    }

    [Benchmark(Description = "Ipc.Channel<int>() + 2 Dispose")]
    public void TypedChannel()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        tx.Dispose();
        rx.Dispose();
    }

    [Benchmark(Description = "Ipc.BytesChannel() + 2 Dispose")]
    public void BytesChannel()
    {
        (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
        tx.Dispose();
        rx.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}

/// <summary>A bytes channel in one process: send, then receive into a reused ArrayBufferWriter (steady state must allocate 0 B).</summary>
[MemoryDiagnoser]
public class BytesChannelBenchmarks : IDisposable
{
    private IpcBytesSender? _tx;
    private IpcBytesReceiver? _rx;
    private byte[] _payload = [];
    private readonly ArrayBufferWriter<byte> _writer = new(128 * 1024);

    [Params(8, 1024, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_tx, _rx) = Ipc.BytesChannel();
        _payload = new byte[Size];
    }

    [Benchmark(Description = "Send + Receive(IBufferWriter)")]
    public int SendReceive()
    {
        _tx!.Send(_payload);
        _writer.ResetWrittenCount();
        _rx!.Receive(_writer);
        return _writer.WrittenCount;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _tx?.Dispose();
        _rx?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A record carrying N senders, sent and received in one process (the descriptors travel through the kernel).</summary>
[MemoryDiagnoser]
public class SenderTransferBenchmarks : IDisposable
{
    private IpcSender<SenderBag>? _tx;
    private IpcReceiver<SenderBag>? _rx;
    private readonly List<IpcReceiver<int>> _receivers = new();
    private SenderBag _bag = new(0, new List<IpcSender<int>>());

    [Params(1, 8, 64)]
    public int Senders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_tx, _rx) = Ipc.Channel<SenderBag>();
        var senders = new List<IpcSender<int>>();
        for (int i = 0; i < Senders; i++)
        {
            (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
            senders.Add(tx);
            _receivers.Add(rx);
        }

        _bag = new SenderBag(1, senders);
    }

    [Benchmark(Description = "send + receive a record with N senders")]
    public int Transfer()
    {
        _tx!.Send(_bag);
        _bag = _rx!.Receive();
        return _bag.Senders.Count;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        foreach (IpcSender<int> sender in _bag.Senders)
        {
            sender.Dispose();
        }

        foreach (IpcReceiver<int> receiver in _receivers)
        {
            receiver.Dispose();
        }

        _receivers.Clear();
        _tx?.Dispose();
        _rx?.Dispose();
        GC.SuppressFinalize(this);
    }
}
