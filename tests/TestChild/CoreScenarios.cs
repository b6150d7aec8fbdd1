using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Transport;

namespace IpcChannel.TestChild;

/// <summary>Scenarios that use the typed API (tests/Core.Tests): the other side of its cross-process tests.</summary>
internal static class CoreScenarios
{
    /// <summary>How long a child waits for anything before it gives up (the test fails with its stderr).</summary>
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    public static void Register(Dictionary<string, Func<string[], Task<int>>> scenarios)
    {
        scenarios["core-embedded-senders"] = EmbeddedSenders;
        scenarios["core-relay"] = Relay;
        scenarios["core-send-and-exit"] = SendAndExit;
        scenarios["core-send-forever"] = SendForever;
        scenarios["core-hello"] = Hello;
        scenarios["core-hello-env"] = HelloFromEnvironment;
        scenarios["core-handle-kit"] = UseHandleKit;
        scenarios["core-list-fds"] = ListFds;
        scenarios["core-garbage-client"] = GarbageClient;
    }

    /// <summary>
    /// args: server0 server2. Rust's cross_process_embedded_senders (child half): send a fresh sender to
    /// server0 (whose message type is itself a sender), wait for a person on it, send that person to server2.
    /// </summary>
    private static Task<int> EmbeddedSenders(string[] args)
    {
        (IpcSender<Named> tx1, IpcReceiver<Named> rx1) = Ipc.Channel<Named>();
        using (rx1)
        using (IpcSender<IpcSender<Named>> tx0 = IpcSender<IpcSender<Named>>.Connect(args[0]))
        {
            tx0.Send(tx1);
            Named person = Receive(rx1);
            using IpcSender<Named> tx2 = IpcSender<Named>.Connect(args[1]);
            tx2.Send(person);
        }

        return Task.FromResult(0);
    }

    /// <summary>
    /// args: serverName. Says hello with an inbox, receives a <see cref="Forward"/>; forwards its queue to
    /// <see cref="Forward.Next"/> if there is one, else reads the payload from the queue and replies
    /// "text|pid" through the sender inside it.
    /// </summary>
    private static Task<int> Relay(string[] args)
    {
        (IpcSender<Forward> inboxTx, IpcReceiver<Forward> inboxRx) = Ipc.Channel<Forward>();
        using (inboxRx)
        using (IpcSender<ChildHello> hello = IpcSender<ChildHello>.Connect(args[0]))
        {
            hello.Send(new ChildHello(Environment.ProcessId, inboxTx));
            Forward forward = Receive(inboxRx);
            if (forward.Next is { } next)
            {
                using (next)
                {
                    next.Send(new Forward(forward.Queue, null));
                }
            }
            else
            {
                using IpcReceiver<Payload> queue = forward.Queue;
                Payload payload = Receive(queue);
                using IpcSender<string> replyTo = payload.ReplyTo;
                replyTo.Send($"{payload.Text}|{Environment.ProcessId}");
            }
        }

        return Task.FromResult(0);
    }

    /// <summary>
    /// args: serverName count. Sends <c>count</c> <see cref="Numbered"/> messages (sizes from
    /// <see cref="Numbered.SizeOf"/>), then exits without disposing anything: process exit must close the sender.
    /// </summary>
    private static Task<int> SendAndExit(string[] args)
    {
        IpcSender<Numbered> sender = IpcSender<Numbered>.Connect(args[0]);
        int count = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < count; i++)
        {
            sender.Send(new Numbered(i, Numbered.Pattern(i, Numbered.SizeOf(i))));
        }

        GC.KeepAlive(sender);
        return Task.FromResult(0);
    }

    /// <summary>
    /// args: serverName. Sends <see cref="Numbered"/> messages (alternately 300 000 and 50 000 bytes) until
    /// the parent kills it or stops listening.
    /// </summary>
    private static Task<int> SendForever(string[] args)
    {
        using IpcSender<Numbered> sender = IpcSender<Numbered>.Connect(args[0]);
        try
        {
            for (int i = 0; ; i++)
            {
                sender.Send(new Numbered(i, Numbered.Pattern(i, i % 2 == 0 ? 300_000 : 50_000)));
            }
        }
        catch (IpcDisconnectedException)
        {
            return Task.FromResult(0);
        }
    }

    /// <summary>
    /// args: serverName [tolerant]. Connects and sends <see cref="ChildHello"/> with its pid. With
    /// "tolerant", a refused connection (the server's filter) is not a failure.
    /// </summary>
    private static Task<int> Hello(string[] args) => SayHello(args[0], args.Length > 1 && args[1] == "tolerant");

    /// <summary>Like core-hello, with the server name taken from the IPC_TEST_SERVER environment variable.</summary>
    private static Task<int> HelloFromEnvironment(string[] args) =>
        SayHello(Environment.GetEnvironmentVariable("IPC_TEST_SERVER") ?? throw new InvalidOperationException("IPC_TEST_SERVER is not set"), tolerant: false);

    private static Task<int> SayHello(string serverName, bool tolerant)
    {
        try
        {
            using IpcSender<ChildHello> hello = IpcSender<ChildHello>.Connect(serverName);
            hello.Send(new ChildHello(Environment.ProcessId, null));
        }
        catch (IpcException e) when (tolerant)
        {
            Console.WriteLine($"refused: {e.Message}");
        }

        return Task.FromResult(0);
    }

    /// <summary>
    /// args: serverName. Receives a <see cref="HandleKit"/> and exercises every handle in it:
    /// sends "child:sender" on Sender, "child:opaque" on OpaqueSender (as a string sender), bytes [1,2,3]
    /// on BytesSender; then reports on Sender what Receiver, BytesReceiver, OpaqueReceiver and Memory held.
    /// </summary>
    private static Task<int> UseHandleKit(string[] args)
    {
        (IpcSender<HandleKit> inboxTx, IpcReceiver<HandleKit> inboxRx) = Ipc.Channel<HandleKit>();
        using (inboxRx)
        using (IpcSender<KitHello> hello = IpcSender<KitHello>.Connect(args[0]))
        {
            hello.Send(new KitHello(Environment.ProcessId, inboxTx));
            HandleKit kit = Receive(inboxRx);
            using IpcSender<string> sender = kit.Sender;
            using IpcReceiver<string> receiver = kit.Receiver;
            using IpcBytesSender bytesSender = kit.BytesSender;
            using IpcBytesReceiver bytesReceiver = kit.BytesReceiver;
            using IpcSender<string> opaqueSender = kit.OpaqueSender.To<string>();
            using IpcReceiver<string> opaqueReceiver = kit.OpaqueReceiver.To<string>();
            using IpcSharedMemory memory = kit.Memory;

            sender.Send("child:sender");
            opaqueSender.Send("child:opaque");
            bytesSender.Send([1, 2, 3]);
            string fromReceiver = Receive(receiver);
            if (!bytesReceiver.TryReceive(s_wait, out byte[]? fromBytes))
            {
                throw new TimeoutException("nothing on the bytes receiver");
            }

            string fromOpaque = Receive(opaqueReceiver);
            sender.Send($"label={kit.Label};receiver={fromReceiver};bytes={Convert.ToHexString(fromBytes)};opaque={fromOpaque};memory={Convert.ToHexString(memory.Span)}");
        }

        return Task.FromResult(0);
    }

    /// <summary>args: serverName. Lists this process's descriptors (before connecting) and sends them as an <see cref="FdList"/>.</summary>
    private static Task<int> ListFds(string[] args)
    {
        List<string> entries = Directory.GetFileSystemEntries("/proc/self/fd")
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
            .ToList();
        using IpcSender<FdList> sender = IpcSender<FdList>.Connect(args[0]);
        sender.Send(new FdList(Environment.ProcessId, entries));
        return Task.FromResult(0);
    }

    /// <summary>
    /// args: serverName. A hostile client: connects through the raw transport and sends a body that is not
    /// MessagePack (0xC1 is a reserved byte), then exits.
    /// </summary>
    private static Task<int> GarbageClient(string[] args)
    {
        using TransportSender raw = IpcTransports.Current.Connect(args[0]);
        raw.Send([0xC1, 0xC1, 0xC1], default, default);
        return Task.FromResult(0);
    }

    private static T Receive<T>(IpcReceiver<T> receiver) =>
        receiver.TryReceive(s_wait, out T? value) ? value : throw new TimeoutException($"nothing arrived on the IpcReceiver<{typeof(T).Name}> within {s_wait}");
}
