using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>
/// Handles and messages between real processes (tests/TestChild, CoreScenarios): where the Rust tests fork,
/// these spawn the helper program and hand it server names.
/// </summary>
public class CrossProcessTests
{
    private static readonly TimeSpan s_childWait = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 120_000)] // Rust: cross_process_embedded_senders_fork / _spawn
    public async Task Child_SendsASenderThroughOneServer_AndThePersonThroughAnother()
    {
        var person = new Named("Patrick Walton", 29);
        using var server0 = new IpcOneShotServer<IpcSender<Named>>();
        using var server2 = new IpcOneShotServer<Named>();
        using TestChildProcess child = TestChildProcess.Start("core-embedded-senders", [server0.Name, server2.Name]);

        (IpcReceiver<IpcSender<Named>> rx0, IpcSender<Named> tx1) = server0.Accept(s_childWait);
        using (rx0)
        using (tx1)
        {
            tx1.Send(person);
        }

        (IpcReceiver<Named> rx2, Named received) = server2.Accept(s_childWait);
        using (rx2)
        {
            await child.AssertSuccessAsync();
            Assert.Equal(person, received);
            rx2.AssertDisconnectedWithin();
        }
    }

    [Fact(Timeout = 120_000)] // Semantics: a sender inside a message inside a message reaches a third process
    public async Task Relay_ReceiverWhoseQueuedMessageHoldsASender_TravelsParentToChildAToChildB_AndBReplies()
    {
        using var serverA = new IpcOneShotServer<ChildHello>();
        using var serverB = new IpcOneShotServer<ChildHello>();
        using TestChildProcess childA = TestChildProcess.Start("core-relay", [serverA.Name]);
        using TestChildProcess childB = TestChildProcess.Start("core-relay", [serverB.Name]);
        (IpcReceiver<ChildHello> helloA, ChildHello a) = serverA.Accept(s_childWait);
        (IpcReceiver<ChildHello> helloB, ChildHello b) = serverB.Accept(s_childWait);
        Assert.Equal(childA.Pid, a.Pid);
        Assert.Equal(childB.Pid, b.Pid);

        (IpcSender<string> replyTx, IpcReceiver<string> replyRx) = Ipc.Channel<string>();
        (IpcSender<Payload> queueTx, IpcReceiver<Payload> queueRx) = Ipc.Channel<Payload>();
        using (helloA)
        using (helloB)
        using (replyRx)
        using (IpcSender<Forward> inboxA = a.Inbox!)
        {
            // The payload (with the reply sender) waits, unread, in the queue that travels to A and then to B.
            queueTx.Send(new Payload("hello", replyTx));
            queueTx.Dispose();
            inboxA.Send(new Forward(queueRx, b.Inbox));
            Assert.Throws<ObjectDisposedException>(() => replyTx.Send("moved"));
            Assert.Throws<ObjectDisposedException>(() => b.Inbox!.Send(new Forward(queueRx, null)));

            Assert.Equal($"hello|{childB.Pid}", replyRx.ReceiveWithin(s_childWait));
            await childA.AssertSuccessAsync();
            await childB.AssertSuccessAsync();

            // No copy of the reply sender survives anywhere once both children are gone.
            replyRx.AssertDisconnectedWithin();
        }
    }

    [Fact(Timeout = 120_000)] // Semantics: messages sent before the sender's process died are all delivered, then Disconnected
    public async Task Receive_ChildSentThenExitedWithoutDisposing_EveryMessageArrivesInOrder_ThenDisconnected()
    {
        const int Count = 30;
        using var server = new IpcOneShotServer<Numbered>();
        using TestChildProcess child = TestChildProcess.Start("core-send-and-exit", [server.Name, Count.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await child.AssertSuccessAsync();

        // The child is gone before anything is read.
        (IpcReceiver<Numbered> rx, Numbered first) = server.Accept(s_childWait);
        using (rx)
        {
            Assert.Equal(0, first.Index);
            Assert.True(first.IsWhole(Numbered.SizeOf(0)));
            for (int i = 1; i < Count; i++)
            {
                Numbered message = rx.ReceiveWithin();
                Assert.Equal(i, message.Index);
                Assert.True(message.IsWhole(Numbered.SizeOf(i)), $"message {i} is not whole");
            }

            Assert.Throws<IpcDisconnectedException>(() => rx.ReceiveWithin());
            await Assert.ThrowsAsync<IpcDisconnectedException>(() => rx.ReceiveAsync().WithTimeout());
        }
    }

    [Fact(Timeout = 120_000)] // Semantics: a process killed mid-send never leaves the peer with a half message
    public async Task Receive_ChildKilledWhileSending_OnlyWholeMessagesArrive_ThenDisconnected()
    {
        using var server = new IpcOneShotServer<Numbered>();
        using TestChildProcess child = TestChildProcess.Start("core-send-forever", [server.Name]);
        (IpcReceiver<Numbered> rx, Numbered first) = server.Accept(s_childWait);
        using (rx)
        {
            Assert.True(first.IsWhole(300_000));
            for (int i = 1; i < 4; i++)
            {
                Numbered message = rx.ReceiveWithin();
                Assert.Equal(i, message.Index);
                Assert.True(message.IsWhole(i % 2 == 0 ? 300_000 : 50_000));
            }

            child.Kill();
            await child.WaitForExitAsync(s_childWait);
            int next = 4;
            while (true)
            {
                Numbered message;
                try
                {
                    message = rx.ReceiveWithin();
                }
                catch (IpcDisconnectedException)
                {
                    break;
                }

                Assert.Equal(next, message.Index);
                Assert.True(message.IsWhole(next % 2 == 0 ? 300_000 : 50_000), $"message {next} is not whole");
                next++;
            }
        }
    }

    [Fact(Timeout = 120_000)] // Semantics: every handle type arrives working in another process
    public async Task HandleKit_SentToAChild_EveryHandleWorksThere()
    {
        using var server = new IpcOneShotServer<KitHello>();
        using TestChildProcess child = TestChildProcess.Start("core-handle-kit", [server.Name]);
        (IpcReceiver<KitHello> helloRx, KitHello hello) = server.Accept(s_childWait);
        using var harness = new KitHarness("child-kit");
        using (helloRx)
        using (IpcSender<HandleKit> inbox = hello.Inbox)
        {
            Assert.Equal(child.Pid, hello.Pid);
            inbox.Send(harness.Kit);
            harness.AssertMoved();
            harness.AssertChildUsed(s_childWait);
            await child.AssertSuccessAsync();
        }
    }

    [Fact(Timeout = 120_000)] // Semantics: the server name is an opaque string a child receives, e.g. in an environment variable
    public async Task Connect_NameFromAnEnvironmentVariable_ReachesTheServer()
    {
        using var server = new IpcServer<ChildHello>();
        using TestChildProcess child = TestChildProcess.Start("core-hello-env", environment: new Dictionary<string, string> { ["IPC_TEST_SERVER"] = server.Name });
        (IpcReceiver<ChildHello> rx, ChildHello hello, IpcPeer peer) = server.Accept(s_childWait);
        using (rx)
        {
            Assert.Equal(child.Pid, hello.Pid);
            Assert.Equal(child.Pid, peer.Pid);
            await child.AssertSuccessAsync();
        }
    }
}
