using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
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
        for (int i = 0; i < size; i++)
        {
            data[i] = (byte)(i % 251);
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
