using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Transport;
using IpcChannel.Transport.Linux;

namespace IpcChannel.TestChild;

/// <summary>Scenarios that use the Linux transport directly (bytes and handles only).</summary>
internal static class TransportScenarios
{
    private static IpcTransport Transport => LinuxTransport.Instance;

    public static void Register(Dictionary<string, Func<string[], Task<int>>> scenarios)
    {
        scenarios["transport-connect-send"] = ConnectSend;
        scenarios["transport-sender-transfer"] = SenderTransfer;
        scenarios["transport-two-step"] = TwoStep;
        scenarios["transport-list-fds"] = ListFds;
        scenarios["transport-send-and-exit"] = SendAndExit;
        scenarios["transport-stream-until-killed"] = StreamUntilKilled;
        scenarios["transport-nosigpipe"] = NoSigpipe;
        scenarios["transport-eintr"] = Eintr;
        scenarios["transport-ctrunc"] = Ctrunc;
        scenarios["transport-send-region"] = SendRegion;
        scenarios["transport-refused"] = Refused;
    }

    /// <summary>args: serverName text. Connects and sends the UTF-8 text.</summary>
    private static Task<int> ConnectSend(string[] args)
    {
        using TransportSender sender = Transport.Connect(args[0]);
        sender.Send(Encoding.UTF8.GetBytes(args[1]), default, default);
        return Task.FromResult(0);
    }

    /// <summary>
    /// args: serverName. Rust's cross_process_sender_transfer: connect, send a fresh sender with "foo",
    /// wait for "baz" on it, then send "bar" on the bootstrap channel.
    /// </summary>
    private static Task<int> SenderTransfer(string[] args)
    {
        using TransportSender bootstrap = Transport.Connect(args[0]);
        (TransportSender sub, TransportReceiver subReceiver) = Transport.CreateChannel();
        using (subReceiver)
        {
            bootstrap.Send("foo"u8, [sub], default);
            sub.Dispose();
            var buffer = new ArrayBufferWriter<byte>();
            Expect(subReceiver.Receive(TimeSpan.FromSeconds(30), buffer, out ReceivedHandles? handles), ReceiveStatus.Message);
            handles?.Dispose();
            Expect(Encoding.UTF8.GetString(buffer.WrittenSpan), "baz");
            bootstrap.Send("bar"u8, default, default);
        }

        return Task.FromResult(0);
    }

    /// <summary>
    /// args: serverName. Rust's cross_process_two_step_transfer (child half): receive a receiver whose queue
    /// holds a message carrying another receiver whose queue holds the cookie; send the cookie back.
    /// </summary>
    private static Task<int> TwoStep(string[] args)
    {
        (TransportSender replyTo, TransportReceiver fromParent) = Transport.CreateChannel();
        using (fromParent)
        using (TransportSender bootstrap = Transport.Connect(args[0]))
        {
            bootstrap.Send("ready"u8, [replyTo], default);
            replyTo.Dispose();
            var buffer = new ArrayBufferWriter<byte>();
            TransportReceiver outer = ReceiveOneChannel(fromParent, buffer).ToReceiver();
            using (outer)
            {
                TransportReceiver inner = ReceiveOneChannel(outer, buffer).ToReceiver();
                using (inner)
                {
                    buffer.ResetWrittenCount();
                    Expect(inner.Receive(TimeSpan.FromSeconds(30), buffer, out ReceivedHandles? none), ReceiveStatus.Message);
                    none?.Dispose();
                    bootstrap.Send(buffer.WrittenSpan, default, default);
                }
            }
        }

        return Task.FromResult(0);
    }

    /// <summary>args: serverName. Sends the list of this process's open descriptors (targets of /proc/self/fd).</summary>
    private static Task<int> ListFds(string[] args)
    {
        using TransportSender sender = Transport.Connect(args[0]);
        string[] targets = Directory.GetFileSystemEntries("/proc/self/fd")
            .Select(path =>
            {
                try
                {
                    return Path.GetFileName(path) + " -> " + (new FileInfo(path).LinkTarget ?? "?");
                }
                catch (IOException)
                {
                    return Path.GetFileName(path) + " -> (gone)";
                }
            })
            .ToArray();
        sender.Send(Encoding.UTF8.GetBytes(string.Join('\n', targets)), default, default);
        return Task.FromResult(0);
    }

    /// <summary>args: serverName count size. Sends count messages of size bytes (pattern i % 251), then exits without disposing.</summary>
    private static Task<int> SendAndExit(string[] args)
    {
        TransportSender sender = Transport.Connect(args[0]);
        int count = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        int size = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        byte[] data = new byte[size];
        for (int i = 0; i < Math.Min(size, 251); i++)
        {
            data[i] = (byte)i;
        }

        // The pattern repeats every 251 bytes: double the filled prefix (a multiple of 251) until it covers everything.
        for (int filled = 251; filled < size; filled *= 2)
        {
            data.AsSpan(0, Math.Min(filled, size - filled)).CopyTo(data.AsSpan(filled));
        }

        for (int m = 0; m < count; m++)
        {
            data[0] = (byte)m;
            sender.Send(data, default, default);
        }

        // Exit without Dispose: process exit must close the sender.
        GC.KeepAlive(sender);
        return Task.FromResult(0);
    }

    /// <summary>
    /// args: serverName. Sends <see cref="StreamMessages"/> as fast as it can, forever: the test kills this
    /// process with SIGKILL at an arbitrary point and checks that it never receives half a message.
    /// </summary>
    private static Task<int> StreamUntilKilled(string[] args)
    {
        TransportSender sender = Transport.Connect(args[0]);
        (TransportSender sub, TransportReceiver subReceiver) = Transport.CreateChannel();
        var many = new TransportChannelEnd[StreamMessages.ManyHandles];
        Array.Fill(many, sub);
        for (int seq = 0; ; seq++)
        {
            (_, int handles) = StreamMessages.Describe(seq);
            sender.Send(StreamMessages.Build(seq), handles == 0 ? default : many, default);
            GC.KeepAlive(subReceiver);
        }
    }

    /// <summary>
    /// No args. With SIGPIPE's default action restored, sends on channels whose receiver is gone, every way a
    /// message can travel; each must fail with <see cref="IpcDisconnectedException"/> (a missing MSG_NOSIGNAL
    /// would kill this process instead).
    /// </summary>
    private static async Task<int> NoSigpipe(string[] args)
    {
        Native.DefaultSigpipe();
        (TransportSender other, TransportReceiver otherReceiver) = Transport.CreateChannel();
        using (other)
        using (otherReceiver)
        {
            var many = new TransportChannelEnd[300];
            Array.Fill(many, other);
            ExpectDisconnected("inline, queue empty (EPIPE)", closed => closed.Send("x"u8, default, default), pendingMessage: false);
            ExpectDisconnected("inline, unread message (ECONNRESET)", closed => closed.Send("x"u8, default, default), pendingMessage: true);
            ExpectDisconnected("memfd body", closed => closed.Send(new byte[300_000], default, default), pendingMessage: false);
            ExpectDisconnected("side channel", closed => closed.Send("x"u8, many, default), pendingMessage: false);

            (TransportSender tx, TransportReceiver rx) = Transport.CreateChannel();
            rx.Dispose();
            using (tx)
            {
                try
                {
                    await tx.SendAsync(new byte[10], default, default, default).ConfigureAwait(false);
                    throw new InvalidOperationException("SendAsync to a closed channel succeeded");
                }
                catch (IpcDisconnectedException e)
                {
                    Console.WriteLine($"SendAsync: {e.Message}");
                }
            }
        }

        return 0;
    }

    private static void ExpectDisconnected(string what, Action<TransportSender> send, bool pendingMessage)
    {
        (TransportSender tx, TransportReceiver rx) = Transport.CreateChannel();
        using (tx)
        {
            if (pendingMessage)
            {
                tx.Send("unread"u8, default, default);
            }

            rx.Dispose();
            try
            {
                send(tx);
                throw new InvalidOperationException($"{what}: the send to a closed channel succeeded");
            }
            catch (IpcDisconnectedException e)
            {
                Console.WriteLine($"{what}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// args: serverName. Blocks in every blocking call of the transport in turn, on a thread named "ipc-eintr",
    /// while the test stops and continues this process (SIGSTOP/SIGCONT make blocked calls return EINTR).
    /// Each call must carry on and deliver exactly what the test sends; each result is echoed as "phase:text".
    /// </summary>
    private static Task<int> Eintr(string[] args)
    {
        using TransportSender bootstrap = Transport.Connect(args[0]);
        (TransportSender tx, TransportReceiver rx) = Transport.CreateChannel();
        bootstrap.Send("ready"u8, [tx], default);
        tx.Dispose();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                EintrPhases(bootstrap, rx);
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            Name = "ipc-eintr",
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException("an EINTR phase failed", failure);
        }

        return Task.FromResult(0);
    }

    private static void EintrPhases(TransportSender bootstrap, TransportReceiver rx)
    {
        var buffer = new ArrayBufferWriter<byte>();
        void Echo(string phase, ReceiveStatus status, ReceivedHandles? handles)
        {
            handles?.Dispose();
            Expect(status, ReceiveStatus.Message);
            bootstrap.Send(Encoding.UTF8.GetBytes(phase + ":" + Encoding.UTF8.GetString(buffer.WrittenSpan)), default, default);
            buffer.ResetWrittenCount();
        }

        // poll (with the wake-up eventfd), no timeout.
        Echo("recv", rx.Receive(Timeout.InfiniteTimeSpan, buffer, out ReceivedHandles? h1), h1);

        // poll, with a timeout.
        Echo("recv-timeout", rx.Receive(TimeSpan.FromSeconds(60), buffer, out ReceivedHandles? h2), h2);

        // poll on a listening socket.
        using (TransportServer server = Transport.CreateServer(oneShot: true))
        {
            bootstrap.Send(Encoding.UTF8.GetBytes("server:" + server.Name), default, default);
            (TransportReceiver client, _) = server.Accept(Timeout.InfiniteTimeSpan) ?? throw new InvalidOperationException("no client");
            using (client)
            {
                Echo("accept", client.Receive(TimeSpan.FromSeconds(60), buffer, out ReceivedHandles? h3), h3);
            }
        }

        // epoll_wait, without and with a timeout.
        using TransportReceiverSet set = Transport.CreateReceiverSet();
        ulong id = set.Add(rx);
        foreach (string phase in new[] { "select", "select-timeout" })
        {
            var results = new List<TransportSelection>();
            bool any = set.Select(phase == "select" ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(60), results);
            Expect(any, true);
            Expect(results.Count, 1);
            Expect(results[0].Closed, false);
            buffer.Write(results[0].Payload);
            Echo(phase, ReceiveStatus.Message, results[0].Handles);
        }

        TransportReceiver own = set.Remove(id) ?? throw new InvalidOperationException("receiver not in the set");

        // sendmsg, blocked on a full channel: 2000 numbered messages, none lost or doubled.
        byte[] number = new byte[4];
        for (int i = 0; i < 2000; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(number, i);
            bootstrap.Send(number, default, default);
        }

        bootstrap.Send("sent"u8, default, default);

        // The epoll engine's thread, under an asynchronous receive.
        using (own)
        {
            ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = own.ReceiveAsync(buffer, CancellationToken.None);
            bootstrap.Send("armed"u8, default, default);
            (ReceiveStatus status, ReceivedHandles? h4) = pending.AsTask().GetAwaiter().GetResult();
            Echo("async", status, h4);
        }
    }

    /// <summary>
    /// args: serverName. Sends "ready" with a sender of its channel, lowers its descriptor limit so that a message
    /// with 253 descriptors cannot be installed whole (the kernel sets MSG_CTRUNC), sends "limited", and expects:
    /// that message rejected with no descriptor leaked and nothing appended, then the next message delivered.
    /// </summary>
    private static Task<int> Ctrunc(string[] args)
    {
        using TransportSender bootstrap = Transport.Connect(args[0]);
        (TransportSender tx, TransportReceiver rx) = Transport.CreateChannel();
        using (rx)
        {
            bootstrap.Send("ready"u8, [tx], default);
            tx.Dispose();
            Native.LowerFdLimit(OpenFds().Max() + 17);
            Console.WriteLine("limited"); // the first write to Console opens descriptors: do it before counting
            int[] before = OpenFds();
            bootstrap.Send("limited"u8, default, default);

            var buffer = new ArrayBufferWriter<byte>();
            try
            {
                ReceiveStatus status = rx.Receive(TimeSpan.FromSeconds(30), buffer, out ReceivedHandles? handles);
                handles?.Dispose();
                throw new InvalidOperationException($"expected the truncated message to be rejected, got {status}");
            }
            catch (IpcSerializationException e) when (e.Message.Contains("MSG_CTRUNC", StringComparison.Ordinal))
            {
                Console.WriteLine($"rejected: {e.Message}");
            }

            int[] leaked = OpenFds().Except(before).ToArray();
            if (leaked.Length != 0)
            {
                throw new InvalidOperationException("descriptors leaked: " + string.Join(", ", leaked.Select(fd => $"{fd} -> {new FileInfo($"/proc/self/fd/{fd}").LinkTarget}")));
            }

            Expect(buffer.WrittenCount, 0);
            Expect(rx.Receive(TimeSpan.FromSeconds(30), buffer, out ReceivedHandles? none), ReceiveStatus.Message);
            Expect(none, null);
            Expect(Encoding.UTF8.GetString(buffer.WrittenSpan), "after");
            bootstrap.Send("ok"u8, default, default);
        }

        return Task.FromResult(0);
    }

    /// <summary>args: serverName length value. Sends "region" with a shared-memory region of length bytes equal to value, then exits.</summary>
    private static Task<int> SendRegion(string[] args)
    {
        using TransportSender sender = Transport.Connect(args[0]);
        int length = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        byte value = byte.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        using TransportSharedMemory region = Transport.CreateSharedMemory(value, length);
        sender.Send("region"u8, default, [region]);
        return Task.FromResult(0);
    }

    /// <summary>args: serverName. Connects and sends until a send fails as disconnected (the server refused this client).</summary>
    private static Task<int> Refused(string[] args)
    {
        using TransportSender sender = Transport.Connect(args[0]);
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                sender.Send("knock"u8, default, default);
            }
            catch (IpcDisconnectedException e)
            {
                Console.WriteLine($"refused: {e.Message}");
                return Task.FromResult(0);
            }
        }

        return Task.FromResult(1);
    }

    private static int[] OpenFds() => Directory.GetFileSystemEntries("/proc/self/fd")
        .Select(path => int.Parse(Path.GetFileName(path), System.Globalization.CultureInfo.InvariantCulture))
        .ToArray();

    private static TransportReceivedChannel ReceiveOneChannel(TransportReceiver receiver, ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        Expect(receiver.Receive(TimeSpan.FromSeconds(30), buffer, out ReceivedHandles? handles), ReceiveStatus.Message);
        using (handles)
        {
            if (handles is null || handles.ChannelCount != 1)
            {
                throw new InvalidOperationException("expected one channel");
            }

            return handles.TakeChannel(0);
        }
    }

    private static void Expect<T>(T actual, T expected)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, expected))
        {
            throw new InvalidOperationException($"expected {expected}, got {actual}");
        }
    }
}
