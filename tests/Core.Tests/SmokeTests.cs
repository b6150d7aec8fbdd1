using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using Xunit;

namespace IpcChannel.Core.Tests;

public record Person(string Name, int Age, byte[] Blob);

public record Envelope(string Label, IpcSender<Person> ReplyTo, List<IpcSharedMemory> Regions);

public class SmokeTests
{
    [Fact]
    public void Simple_RecordRoundTrip_ThenDisconnected()
    {
        (IpcSender<Person> tx, IpcReceiver<Person> rx) = Ipc.Channel<Person>();
        using (rx)
        {
            tx.Send(new Person("Ada", 36, [1, 2, 3]));
            tx.Dispose();
            Person p = ReceiveExtensions.Bounded(rx.Receive);
            Assert.Equal("Ada", p.Name);
            Assert.Equal(36, p.Age);
            Assert.Equal(new byte[] { 1, 2, 3 }, p.Blob);
            Assert.Throws<IpcDisconnectedException>(() => ReceiveExtensions.Bounded(rx.Receive));
        }
    }

    [Fact]
    public void EmbeddedSenderAndSharedMemory_ArriveWorking_AndAreMoved()
    {
        (IpcSender<Envelope> tx, IpcReceiver<Envelope> rx) = Ipc.Channel<Envelope>();
        (IpcSender<Person> replyTx, IpcReceiver<Person> replyRx) = Ipc.Channel<Person>();
        using var region = IpcSharedMemory.FromByte(0xBA, 1 << 20);
        using (tx)
        using (rx)
        using (replyRx)
        {
            tx.Send(new Envelope("hello", replyTx, [region]));
            Assert.Throws<ObjectDisposedException>(() => replyTx.Send(new Person("x", 1, [])));
            Assert.Throws<ObjectDisposedException>(() => region.Length);
            Envelope e = ReceiveExtensions.Bounded(rx.Receive);
            Assert.Equal("hello", e.Label);
            Assert.Equal(1 << 20, e.Regions[0].Length);
            Assert.True(e.Regions[0].Span.IndexOfAnyExcept((byte)0xBA) < 0);
            e.ReplyTo.Send(new Person("Bob", 2, [9]));
            Assert.Equal("Bob", ReceiveExtensions.Bounded(replyRx.Receive).Name);
            e.ReplyTo.Dispose();
            e.Regions[0].Dispose();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task ReceiveAsync_ThenReadAll_EndsOnDisconnect()
    {
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (rx)
        {
            Task<int> pending = rx.ReceiveAsync().AsTask();
            tx.Send(5);
            Assert.Equal(5, await pending.WithTimeout());
            tx.Send(6);
            tx.Send(7);
            tx.Dispose();
            var seen = new List<int>();
            await foreach (int v in rx.ReadAllAsync())
            {
                seen.Add(v);
            }

            Assert.Equal(new[] { 6, 7 }, seen);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Router_RouteToChannel_DeliversThenCompletes()
    {
        using var router = new IpcRouter();
        (IpcSender<string> tx, IpcReceiver<string> rx) = Ipc.Channel<string>();
        var reader = router.RouteToChannel(rx);
        tx.Send("a");
        tx.Send("b");
        tx.Dispose();
        var seen = new List<string>();
        await foreach (string s in reader.ReadAllAsync().WithCancellation(default))
        {
            seen.Add(s);
        }

        Assert.Equal(new[] { "a", "b" }, seen);
    }
}
