using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.InteropServices;
using MessagePack;

namespace IpcChannel.Bench;

/// <summary>
/// The child process: answers the parent. It creates every IpcChannel channel and sends one end of each to
/// the parent's one-shot server; the raw baselines' descriptors it inherited. Then it reads one command a
/// line from stdin, serves it on the data path, and answers "done" on stdout.
/// </summary>
internal static class Child
{
    public const string ServerVariable = "IPCBENCH_SERVER";

    public static int Run(Dictionary<string, string> args)
    {
        string server = Environment.GetEnvironmentVariable(ServerVariable) ?? throw new InvalidOperationException($"{ServerVariable} is not set");
        int seq = int.Parse(args["seq"]);
        int stream = int.Parse(args["stream"]);
        int fdSocket = int.Parse(args["fdsock"]);
        using var pipeIn = new AnonymousPipeClientStream(PipeDirection.In, args["pipe-in"]);
        using var pipeOut = new AnonymousPipeClientStream(PipeDirection.Out, args["pipe-out"]);
        var pipes = new Framer(new PipeByteStream(pipeIn, pipeOut));
        var socket = new Framer(new SocketByteStream(new Socket(new SafeSocketHandle(int.Parse(args["sock"]), ownsHandle: true))));
        var msgpack = new Framer(new SocketByteStream(new Socket(new SafeSocketHandle(int.Parse(args["mpsock"]), ownsHandle: true))));
        MessagePackSerializerOptions mpOptions = IpcSerializerOptions.Default.MessagePackOptions;

        (IpcBytesSender bytesDown, IpcBytesReceiver bytesIn) = Ipc.BytesChannel();
        (IpcBytesSender bytesOut, IpcBytesReceiver bytesUp) = Ipc.BytesChannel();
        (IpcSender<Blob> blobDown, IpcReceiver<Blob> blobIn) = Ipc.Channel<Blob>();
        (IpcSender<Blob> blobOut, IpcReceiver<Blob> blobUp) = Ipc.Channel<Blob>();
        (IpcSender<Small> smallDown, IpcReceiver<Small> smallIn) = Ipc.Channel<Small>();
        (IpcSender<Small> smallOut, IpcReceiver<Small> smallUp) = Ipc.Channel<Small>();
        (IpcSender<SenderBag> bagDown, IpcReceiver<SenderBag> bagIn) = Ipc.Channel<SenderBag>();
        (IpcSender<SenderBag> bagOut, IpcReceiver<SenderBag> bagUp) = Ipc.Channel<SenderBag>();
        (IpcSender<ShmMessage> shmDown, IpcReceiver<ShmMessage> shmIn) = Ipc.Channel<ShmMessage>();
        (IpcSender<long> ackOut, IpcReceiver<long> ackUp) = Ipc.Channel<long>();
        using (IpcSender<Boot> boot = IpcSender<Boot>.Connect(server))
        {
            boot.Send(new Boot(bytesDown, bytesUp, blobDown, blobUp, smallDown, smallUp, bagDown, bagUp, shmDown, ackUp, Placement.CpusAllowed()));
        }

        byte[] buffer = new byte[(16 << 20) + 64];
        var writer = new ArrayBufferWriter<byte>(64 * 1024);
        int[] fds = new int[253];
        byte[] one = [1];
        TextReader commands = Console.In;
        while (commands.ReadLine() is string line)
        {
            string[] words = line.Split(' ');
            string verb = words[0];
            if (verb == "quit")
            {
                break;
            }

            string impl = words[1];
            long size = long.Parse(words[2]);
            int count = int.Parse(words[3]);
            switch (verb, impl)
            {
                case ("echo", "ipc-bytes"):
                    for (int i = 0; i < count; i++)
                    {
                        writer.ResetWrittenCount();
                        bytesIn.Receive(writer);
                        bytesOut.Send(writer.WrittenSpan);
                    }

                    break;
                case ("sink", "ipc-bytes"):
                    for (int i = 0; i < count; i++)
                    {
                        writer.ResetWrittenCount();
                        bytesIn.Receive(writer);
                    }

                    bytesOut.Send(one);
                    break;
                case ("echo", "ipc-typed"):
                    for (int i = 0; i < count; i++)
                    {
                        blobOut.Send(blobIn.Receive());
                    }

                    break;
                case ("sink", "ipc-typed"):
                    for (int i = 0; i < count; i++)
                    {
                        blobIn.Receive();
                    }

                    blobOut.Send(new Blob(0, one));
                    break;
                case ("echo", "ipc-small"):
                    for (int i = 0; i < count; i++)
                    {
                        smallOut.Send(smallIn.Receive());
                    }

                    break;
                case ("echo", "net-raw") when size <= 65536:
                    for (int i = 0; i < count; i++)
                    {
                        int got = Native.ReceiveDatagram(seq, buffer);
                        Native.SendDatagram(seq, buffer.AsSpan(0, got));
                    }

                    break;
                case ("echo", "net-raw"):
                    for (int i = 0; i < count; i++)
                    {
                        Native.ReceiveExactly(stream, buffer.AsSpan(0, (int)size));
                        Native.SendAll(stream, buffer.AsSpan(0, (int)size));
                    }

                    break;
                case ("sink", "net-raw"):
                    for (int i = 0; i < count; i++)
                    {
                        Native.ReceiveDatagram(seq, buffer);
                    }

                    Native.SendDatagram(seq, one);
                    break;
                case ("echo", "pipes"):
                    Echo(pipes, count);
                    break;
                case ("sink", "pipes"):
                    Sink(pipes, count);
                    break;
                case ("echo", "uds-socket"):
                    Echo(socket, count);
                    break;
                case ("sink", "uds-socket"):
                    Sink(socket, count);
                    break;
                case ("echo", "msgpack-socket"):
                    for (int i = 0; i < count; i++)
                    {
                        msgpack.SendMessagePack(msgpack.ReceiveMessagePack<Blob>(mpOptions), mpOptions);
                    }

                    break;
                case ("sink", "msgpack-socket"):
                    for (int i = 0; i < count; i++)
                    {
                        msgpack.ReceiveMessagePack<Blob>(mpOptions);
                    }

                    msgpack.SendMessagePack(new Blob(0, one), mpOptions);
                    break;
                case ("fds", "ipc"):
                    for (int i = 0; i < count; i++)
                    {
                        bagOut.Send(bagIn.Receive());
                    }

                    break;
                case ("fds", "net-raw"):
                    for (int i = 0; i < count; i++)
                    {
                        int got = Native.ReceiveFds(fdSocket, fds);
                        Native.SendFds(fdSocket, fds.AsSpan(0, got));
                    }

                    break;
                case ("shm", "ipc"):
                    for (int i = 0; i < count; i++)
                    {
                        ShmMessage message = shmIn.Receive();
                        long sum;
                        using (IpcSharedMemory memory = message.Memory)
                        {
                            sum = Checksum(memory.Span);
                        }

                        ackOut.Send(sum);
                    }

                    break;
                default:
                    Console.Error.WriteLine($"child: unknown command '{line}'");
                    return 3;
            }

            Console.Out.WriteLine("done");
            Console.Out.Flush();
        }

        return 0;
    }

    private static void Echo(Framer framer, int count)
    {
        for (int i = 0; i < count; i++)
        {
            framer.Send(framer.Receive().Span);
        }
    }

    private static void Sink(Framer framer, int count)
    {
        for (int i = 0; i < count; i++)
        {
            framer.Receive();
        }

        framer.Send([1]);
    }

    /// <summary>Reads every byte once (a vectorized sum of 64-bit words, then the tail bytes).</summary>
    public static long Checksum(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        ReadOnlySpan<Vector<ulong>> vectors = MemoryMarshal.Cast<ulong, Vector<ulong>>(words);
        Vector<ulong> acc = Vector<ulong>.Zero;
        foreach (Vector<ulong> v in vectors)
        {
            acc += v;
        }

        ulong sum = Vector.Sum(acc);
        for (int i = vectors.Length * Vector<ulong>.Count; i < words.Length; i++)
        {
            sum += words[i];
        }

        for (int i = words.Length * sizeof(ulong); i < data.Length; i++)
        {
            sum += data[i];
        }

        return (long)sum;
    }
}
