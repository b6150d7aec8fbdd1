using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// A peer that does not follow the wire format: raw datagrams and descriptors written with a bare sendmsg on the
/// sender's socket. Every case must raise <see cref="IpcSerializationException"/> on that receive, append nothing,
/// close every descriptor the datagram carried, and leave the receiver, other channels and the process usable.
/// </summary>
[Collection(SerialCollection.Name)]
public class HostileInputTests
{
    private const ushort Body = RawPeer.FlagBodyInMemfd;
    private const ushort Side = RawPeer.FlagSideChannel;
    private const ushort Streamed = 0x4; // FlagBodyInSideChannel
    private const int Sealed = RawPeer.AllSeals;

    /// <summary>How a test receives: every path must reject the same way.</summary>
    public enum Mode
    {
        Blocking,
        Try,
        Async,
        Set,
    }

    /// <summary>Descriptors a hostile writer keeps open until the receive under test is over (serial collection: no races).</summary>
    private static readonly List<SafeFdHandle> s_openUntilReceived = [];

    private static readonly Dictionary<string, Action<SafeFdHandle>> s_cases = new()
    {
        ["bad magic"] = s => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(5, magic: 0x1234), new byte[5])),
        ["unknown flag"] = s => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(5, flags: 0x8), new byte[5])),
        ["garbage"] = s => RawPeer.Send(s, Garbage(100)),
        ["garbage with descriptors"] = s => WithFds(3, fds => RawPeer.Send(s, Garbage(100), fds)),
        ["short datagram"] = s => RawPeer.Send(s, new byte[10]),
        ["zero-length datagram"] = s => RawPeer.Send(s, []),
        ["descriptors without a header"] = s => WithFds(3, fds => RawPeer.Send(s, [], fds)),
        ["descriptors with half a header"] = s => WithFds(2, fds => RawPeer.Send(s, RawPeer.Header(0, channels: 2).AsSpan(0, 8), fds)),
        ["length longer than the datagram"] = s => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(1000), new byte[10])),
        ["length shorter than the datagram"] = s => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(10), new byte[1000])),
        ["length of 4 GiB"] = s => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(uint.MaxValue), new byte[10])),
        ["channels claimed, none carried"] = s => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(3, channels: 2), new byte[3])),
        ["descriptors carried, none claimed"] = s => WithFds(2, fds => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(3), new byte[3]), fds)),
        ["more channels claimed than carried"] = s => WithFds(2, fds => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(3, channels: 3), new byte[3]), fds)),
        ["descriptor counts beyond any limit"] = s => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(3, channels: uint.MaxValue, regions: uint.MaxValue), new byte[3])),
        ["memfd body flag without a memfd"] = s => RawPeer.Send(s, RawPeer.Header(10, flags: Body)),
        ["unsealed memfd body"] = s => WithMemfd(new byte[10], 0, m => RawPeer.Send(s, RawPeer.Header(10, flags: Body), m)),
        ["memfd body sealed against writes only"] = s => WithMemfd(new byte[10], Interop.F_SEAL_WRITE, m => RawPeer.Send(s, RawPeer.Header(10, flags: Body), m)),
        ["memfd body smaller than declared"] = s => WithMemfd(new byte[10], Sealed, m => RawPeer.Send(s, RawPeer.Header(100_000, flags: Body), m)),
        ["memfd body larger than declared"] = s => WithMemfd(new byte[100], Sealed, m => RawPeer.Send(s, RawPeer.Header(10, flags: Body), m)),
        ["memfd body plus inline bytes"] = s => WithMemfd(new byte[10], Sealed, m => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(10, flags: Body), new byte[10]), m)),
        ["socket as memfd body"] = s => WithFds(1, fds => RawPeer.Send(s, RawPeer.Header(10, flags: Body), fds)),
        ["unsealed region"] = s => WithMemfd(new byte[100], 0, m => RawPeer.Send(s, Region(100), m)),
        ["region without the grow seal"] = s => WithMemfd(new byte[100], Interop.F_SEAL_WRITE | Interop.F_SEAL_SHRINK, m => RawPeer.Send(s, Region(100), m)),
        ["region of the wrong size"] = s => WithMemfd(new byte[100], Sealed, m => RawPeer.Send(s, Region(200), m)),
        ["region length above 2 GiB"] = s => WithMemfd(new byte[100], Sealed, m => RawPeer.Send(s, Region(0x8000_0000), m)),
        ["socket as region"] = s => WithFds(1, fds => RawPeer.Send(s, Region(0), fds)),
        ["region table missing"] = s => WithMemfd(new byte[100], Sealed, m => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(3, regions: 1), new byte[3]), m)),
        ["side-channel flag with few descriptors"] = s => WithFds(1, fds => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(3, channels: 1, flags: Side), new byte[3]), fds)),
        ["side channel holding fewer descriptors than declared"] = s => SideChannel(s, declared: 400, chunks: [(10, 10)]),
        ["side channel left open holding too few descriptors"] = s => SideChannel(s, declared: 400, chunks: [(10, 10)], leaveOpen: true),
        ["side channel whose chunk count lies"] = s => SideChannel(s, declared: 300, chunks: [(100, 48)]),
        ["side channel chunk without descriptors"] = s => SideChannel(s, declared: 300, chunks: [(0, 0), (48, 48)]),
        ["side channel that is not a socket"] = s => WithMemfd(new byte[1], Sealed, m => WithFds(1, fds =>
            RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(3, channels: 300, flags: Side), new byte[3]), [.. Enumerable.Repeat(fds[0], 252), m]))),
        ["side channel that is an unconnected socket"] = s => WithUnconnectedSocket(u => WithFds(1, fds =>
            RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(3, channels: 300, flags: Side), new byte[3]), [.. Enumerable.Repeat(fds[0], 252), u]))),
        ["streamed body flag without a side channel"] = s => RawPeer.Send(s, RawPeer.Header(200_000, flags: Streamed)),
        ["streamed body shorter than declared"] = s => StreamedBody(s, declared: 300_000, fragments: [100_000, 100_000]),
        ["streamed body left open shorter than declared"] = s => StreamedBody(s, declared: 300_000, fragments: [100_000], leaveOpen: true),
        ["streamed body fragment longer than the body"] = s => StreamedBody(s, declared: 150_000, fragments: [100_000, 100_000]),
        ["streamed body plus inline bytes"] = s => StreamedBody(s, declared: 150_000, fragments: [150_000], inlineBytes: 10),
        ["streamed body fragment carrying a descriptor"] = s => StreamedBody(s, declared: 150_000, fragments: [150_000], fragmentFd: true),
        ["streamed body and memfd body flags together"] = s => StreamedBody(s, declared: 150_000, fragments: [150_000], extraFlags: Body),
        ["datagram larger than the receive buffer (MSG_TRUNC)"] = s => RawPeer.Send(s, RawPeer.Concat(RawPeer.Header(150_000), new byte[150_000])),
    };

    public static TheoryData<string> Cases => new(s_cases.Keys);

    public static TheoryData<string, Mode> CasesByMode()
    {
        var data = new TheoryData<string, Mode>();
        foreach (string name in new[] { "bad magic", "descriptors without a header", "unsealed region", "side channel holding fewer descriptors than declared", "zero-length datagram" })
        {
            foreach (Mode mode in Enum.GetValues<Mode>())
            {
                data.Add(name, mode);
            }
        }

        return data;
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Cases))]
    public async Task Receive_HostileFrame_ThrowsAndLeavesEverythingUsable(string hostileCase)
    {
        await AssertRejectedAsync(s_cases[hostileCase], Mode.Blocking);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(CasesByMode))]
    public async Task AnyReceivePath_HostileFrame_ThrowsAndLeavesEverythingUsable(string hostileCase, Mode mode)
    {
        await AssertRejectedAsync(s_cases[hostileCase], mode);
    }

    private static async Task AssertRejectedAsync(Action<SafeFdHandle> writeHostile, Mode mode)
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender otherTx, TransportReceiver otherRx) = T.CreateChannel();
        using (otherTx)
        using (otherRx)
        using (TransportReceiverSet set = T.CreateReceiverSet())
        using (tx)
        {
            otherTx.Send("bystander"u8);
            writeHostile(tx.Fd());
            tx.Send(Payload.Pattern(1000, seed: 5)); // queued behind the hostile frame

            var buffer = new ArrayBufferWriter<byte>();
            buffer.Write("kept"u8);
            IpcSerializationException error;
            switch (mode)
            {
                case Mode.Blocking:
                    error = Assert.Throws<IpcSerializationException>(() => rx.Receive(ReceiveBound, buffer, out _));
                    break;
                case Mode.Try:
                    error = Assert.Throws<IpcSerializationException>(() => rx.TryReceive(buffer, out _));
                    break;
                case Mode.Async:
                    error = await Assert.ThrowsAsync<IpcSerializationException>(async () => await rx.ReceiveAsync(buffer, CancellationToken.None).WithTimeout());
                    break;
                default:
                    set.Add(rx);
                    error = Assert.Throws<IpcSerializationException>(() => set.Select(ReceiveBound, []));
                    break;
            }

            s_openUntilReceived.ForEach(fd => fd.Dispose());
            s_openUntilReceived.Clear();
            Assert.Contains("malformed", error.Message, StringComparison.Ordinal);
            Assert.Equal("kept"u8.ToArray(), buffer.WrittenSpan.ToArray());

            // The same receiver goes on with the next message.
            if (mode == Mode.Set)
            {
                var results = new List<TransportSelection>();
                Assert.True(set.Select(ReceiveBound, results));
                TransportSelection next = Assert.Single(results);
                Assert.False(next.Closed);
                Payload.AssertPattern(next.Payload, 1000, seed: 5);
                Assert.Equal(1, set.Count);
            }
            else
            {
                Payload.AssertPattern(rx.ReceiveBytes(), 1000, seed: 5);
                rx.AssertEmpty();
                rx.Dispose();
            }

            Assert.Equal("bystander"u8.ToArray(), otherRx.ReceiveBytes());
        }

        AssertFreshChannelWorks();
        leaks.AssertNoLeak();
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_HostileFrameArrivesWhileWaiting_FaultsAndReceiverStaysUsable()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            ValueTask<(ReceiveStatus Status, ReceivedHandles? Handles)> pending = rx.ReceiveAsync(buffer, CancellationToken.None);
            Assert.False(pending.IsCompleted);
            s_cases["garbage with descriptors"](tx.Fd());
            await Assert.ThrowsAsync<IpcSerializationException>(async () => await pending.WithTimeout());
            Assert.Equal(0, buffer.WrittenCount);

            pending = rx.ReceiveAsync(buffer, CancellationToken.None);
            tx.Send("next"u8);
            Assert.Equal(ReceiveStatus.Message, (await pending.WithTimeout()).Status);
            Assert.Equal("next"u8.ToArray(), buffer.WrittenSpan.ToArray());
        }

        leaks.AssertNoLeak();
    }

    [Fact(Timeout = 30_000)]
    public async Task SelectAsync_HostileFrameArrivesWhileWaiting_FaultsAndSetStaysUsable()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        (TransportSender otherTx, TransportReceiver otherRx) = T.CreateChannel();
        using (TransportReceiverSet set = T.CreateReceiverSet())
        using (tx)
        using (otherTx)
        {
            ulong id = set.Add(rx);
            ulong otherId = set.Add(otherRx);
            var results = new List<TransportSelection>();
            ValueTask pending = set.SelectAsync(results, CancellationToken.None);
            Assert.False(pending.IsCompleted);
            s_cases["unsealed region"](tx.Fd());
            await Assert.ThrowsAsync<IpcSerializationException>(async () => await pending.WithTimeout());
            Assert.Empty(results);
            Assert.Equal(2, set.Count);

            tx.Send("same"u8);
            otherTx.Send("other"u8);
            while (results.Count < 2)
            {
                await set.SelectAsync(results, CancellationToken.None).WithTimeout();
            }

            Assert.Equal("same"u8.ToArray(), results.Single(r => r.Id == id).Payload);
            Assert.Equal("other"u8.ToArray(), results.Single(r => r.Id == otherId).Payload);
        }

        leaks.AssertNoLeak();
    }

    [Fact]
    public void Receive_TwoZeroLengthDatagramsThenMessage_BothRejectedThenMessageArrives()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            RawPeer.Send(tx.Fd(), []);
            RawPeer.Send(tx.Fd(), []);
            tx.Send("real"u8);
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Throws<IpcSerializationException>(() => rx.Receive(ReceiveBound, buffer, out _));
            Assert.Throws<IpcSerializationException>(() => rx.Receive(ReceiveBound, buffer, out _));
            Assert.Equal("real"u8.ToArray(), rx.ReceiveBytes());
            rx.AssertEmpty();
        }

        leaks.AssertNoLeak();
    }

    [Fact]
    public void Receive_ZeroLengthDatagramWhilePeerAlive_IsNotMistakenForClose()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            for (int i = 0; i < 3; i++)
            {
                RawPeer.Send(tx.Fd(), []);
            }

            var buffer = new ArrayBufferWriter<byte>();
            for (int i = 0; i < 3; i++)
            {
                Assert.Throws<IpcSerializationException>(() => rx.TryReceive(buffer, out _));
            }

            rx.AssertEmpty();
            tx.Send("alive"u8);
            Assert.Equal("alive"u8.ToArray(), rx.ReceiveBytes());
        }

        leaks.AssertNoLeak();
    }

    [Fact]
    public void Receive_ZeroLengthDatagramsAroundMessageThenPeerCloses_MessageThenStickyClose()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (rx)
        {
            RawPeer.Send(tx.Fd(), []);
            tx.Send("between"u8);
            RawPeer.Send(tx.Fd(), []);
            RawPeer.Send(tx.Fd(), []);
            tx.Dispose();

            var buffer = new ArrayBufferWriter<byte>();
            Assert.Throws<IpcSerializationException>(() => rx.Receive(ReceiveBound, buffer, out _));
            Assert.Equal("between"u8.ToArray(), rx.ReceiveBytes());

            // Behind a peer that is gone, trailing zero-length datagrams carry nothing: the channel is closed.
            rx.AssertClosed();
            rx.AssertClosed();
        }

        leaks.AssertNoLeak();
    }

    [Fact]
    public void Receive_HostileBurstInterleavedWithMessages_EveryMessageArrivesInOrder()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        string[] names = [.. s_cases.Keys];
        using (tx)
        using (rx)
        {
            int rejected = 0;
            for (int i = 0; i < names.Length; i++)
            {
                s_cases[names[i]](tx.Fd());
                tx.Send(Payload.Pattern(i * 100, seed: i));
                var buffer = new ArrayBufferWriter<byte>();
                while (true)
                {
                    try
                    {
                        Assert.Equal(ReceiveStatus.Message, rx.Receive(ReceiveBound, buffer, out ReceivedHandles? handles));
                        Assert.Null(handles);
                        break;
                    }
                    catch (IpcSerializationException)
                    {
                        rejected++;
                    }
                }

                s_openUntilReceived.ForEach(fd => fd.Dispose());
                s_openUntilReceived.Clear();
                Payload.AssertPattern(buffer.WrittenSpan, i * 100, seed: i);
            }

            Assert.Equal(names.Length, rejected);
        }

        leaks.AssertNoLeak();
    }

    /// <summary>The kernel never delivers more than 253 descriptors in one message (SCM_MAX_FD): the sender's sendmsg fails.</summary>
    [Fact]
    public void RawSendMsg_254Descriptors_KernelRefusesWithEinvalAndNothingArrives()
    {
        FdLeakCheck leaks = FdLeakCheck.Start();
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            WithFds(1, fds =>
            {
                SafeFdHandle[] many = [.. Enumerable.Repeat(fds[0], 254)];
                Assert.Equal(Interop.Errno.EINVAL, RawPeer.TrySend(tx.Fd(), RawPeer.Concat(RawPeer.Header(0, channels: 254)), many));
                Assert.Equal(0, RawPeer.TrySend(tx.Fd(), RawPeer.Concat(RawPeer.Header(0, channels: 253)), many.AsSpan(0, 253)));
            });
            rx.AssertOnlyA253ChannelMessageQueued();
        }

        leaks.AssertNoLeak();
    }

    /// <summary>
    /// MSG_CTRUNC: the receiving process cannot install every descriptor (here its RLIMIT_NOFILE is too low for 253),
    /// so the kernel installs what fits, drops the rest and sets MSG_CTRUNC. The child must reject the message,
    /// close what was installed, append nothing, and receive the next message.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task Receive_DescriptorsTruncatedByKernel_RejectedWithoutLeakInTheReceivingProcess()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-ctrunc", [server.Name]);
        await child.RunParentAsync(async () =>
        {
        (TransportReceiver bootstrap, PeerCredentials peer) = await server.AcceptAsync(CancellationToken.None).WithTimeout();
        using (bootstrap)
        {
            Assert.Equal(child.Pid, peer.Pid);
            (byte[] ready, ReceivedHandles? handles) = bootstrap.ReceiveMessage();
            Assert.Equal("ready"u8.ToArray(), ready);
            using TransportSender toChild = handles!.TakeChannel(0).ToSender();
            handles.Dispose();
            Assert.Equal("limited"u8.ToArray(), bootstrap.ReceiveBytes());

            (TransportSender spareTx, TransportReceiver spareRx) = T.CreateChannel();
            using (spareTx)
            using (spareRx)
            {
                SafeFdHandle[] many = [.. Enumerable.Repeat(spareTx.Fd(), Frames.MaxFdsPerDatagram)];
                RawPeer.Send(toChild.Fd(), RawPeer.Concat(RawPeer.Header(3, channels: Frames.MaxFdsPerDatagram), new byte[3]), many);
            }

            toChild.Send("after"u8);
            Assert.Equal("ok"u8.ToArray(), bootstrap.ReceiveBytes());
        }

        await child.AssertSuccessAsync();
        });
        Assert.Contains("MSG_CTRUNC", await child.OutputAsync().WithTimeout(), StringComparison.Ordinal);
    }

    private static byte[] Garbage(int length)
    {
        byte[] bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        bytes[14] = 0; // never the magic by accident
        return bytes;
    }

    private static byte[] Region(uint declaredLength) =>
        RawPeer.Concat(RawPeer.Header(3, regions: 1), new byte[3], RawPeer.U32(declaredLength));

    /// <summary>Runs <paramref name="use"/> with <paramref name="count"/> socket descriptors (closed afterwards).</summary>
    private static void WithFds(int count, Action<SafeFdHandle[]> use)
    {
        var pairs = new List<(SafeFdHandle, SafeFdHandle)>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                pairs.Add(Frames.CreateSocketPair());
            }

            use([.. pairs.Select(p => p.Item1)]);
        }
        finally
        {
            foreach ((SafeFdHandle a, SafeFdHandle b) in pairs)
            {
                a.Dispose();
                b.Dispose();
            }
        }
    }

    private static void WithUnconnectedSocket(Action<SafeFdHandle> use)
    {
        using var socket = new SafeFdHandle(Interop.Socket(Interop.AF_UNIX, Interop.SOCK_SEQPACKET | Interop.SOCK_CLOEXEC, 0));
        Assert.False(socket.IsInvalid);
        use(socket);
    }

    private static void WithMemfd(byte[] contents, int seals, Action<SafeFdHandle> use)
    {
        using SafeFdHandle memfd = RawPeer.Memfd(contents, seals);
        use(memfd);
    }

    /// <summary>
    /// A frame announcing <paramref name="declared"/> channels through a side channel: 252 on the datagram plus the
    /// side channel's end, and on the side channel the given chunks (declared count, descriptors actually sent).
    /// </summary>
    /// <summary>A body "streamed" on a side channel that breaks the rules in one way.</summary>
    private static void StreamedBody(
        SafeFdHandle socket, int declared, int[] fragments, bool leaveOpen = false, int inlineBytes = 0, bool fragmentFd = false, ushort extraFlags = 0)
    {
        WithFds(1, fds =>
        {
            (SafeFdHandle sideSend, SafeFdHandle sideReceive) = Frames.CreateSocketPair();
            int size = 4 * 1024 * 1024;
            unsafe
            {
                _ = Interop.SetSockOpt(sideSend, Interop.SOL_SOCKET, Interop.SO_SNDBUF, &size, sizeof(int));
            }

            if (leaveOpen)
            {
                s_openUntilReceived.Add(sideSend);
            }

            using (leaveOpen ? null : sideSend)
            using (sideReceive)
            {
                foreach (int fragment in fragments)
                {
                    RawPeer.Send(sideSend, new byte[fragment], fragmentFd ? [fds[0]] : []);
                }

                RawPeer.Send(socket, RawPeer.Concat(RawPeer.Header((uint)declared, flags: (ushort)(Streamed | extraFlags)), new byte[inlineBytes]), sideReceive);
            }
        });
    }

    private static void SideChannel(SafeFdHandle socket, int declared, (int Claimed, int Sent)[] chunks, bool leaveOpen = false)
    {
        WithFds(1, fds =>
        {
            (SafeFdHandle sideSend, SafeFdHandle sideReceive) = Frames.CreateSocketPair();
            if (leaveOpen)
            {
                // The receiver must not wait for the rest: it finds the side channel empty (EAGAIN), not closed.
                s_openUntilReceived.Add(sideSend);
            }

            using (leaveOpen ? null : sideSend)
            using (sideReceive)
            {
                foreach ((int claimed, int sent) in chunks)
                {
                    RawPeer.Send(sideSend, RawPeer.U32((uint)claimed), [.. Enumerable.Repeat(fds[0], sent)]);
                }

                SafeFdHandle[] first = [.. Enumerable.Repeat(fds[0], 252), sideReceive];
                RawPeer.Send(socket, RawPeer.Concat(RawPeer.Header(3, channels: (uint)declared, flags: Side), new byte[3]), first);
            }
        });
    }
}

/// <summary>Helpers for <see cref="HostileInputTests"/>.</summary>
internal static class HostileAssertions
{
    /// <summary>After the refused 254-descriptor send, only the accepted 253-descriptor frame is queued.</summary>
    public static void AssertOnlyA253ChannelMessageQueued(this TransportReceiver receiver)
    {
        (byte[] payload, ReceivedHandles? handles) = receiver.ReceiveMessage();
        Assert.Empty(payload);
        using (handles)
        {
            Assert.Equal(253, handles!.ChannelCount);
        }

        receiver.AssertEmpty();
    }
}
