using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>
/// Every call that waits, as a user makes it: <see cref="Timeout.InfiniteTimeSpan"/> (and the overloads without a
/// timeout) really wait for an event that comes later, and <c>Dispose</c> on another thread releases a waiter
/// promptly with <see cref="ObjectDisposedException"/>. Each waiter is proven to be blocked in the kernel before
/// the test acts, so nothing depends on how long a wait takes.
/// </summary>
public class BlockingCallTests
{
    private const int Value = 7;

    /// <summary>How long a released waiter may take to return: generous, since the waiter was already blocked.</summary>
    private static readonly TimeSpan Release = TimeSpan.FromSeconds(10);

    /// <summary>A finite timeout far longer than any test: a waiter released before it ran out was released by the test.</summary>
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static readonly string[] s_foreverWaits =
    [
        "IpcReceiver.Receive()",
        "IpcReceiver.TryReceive(Infinite)",
        "IpcBytesReceiver.Receive()",
        "IpcBytesReceiver.TryReceive(Infinite)",
        "IpcBytesReceiver.Receive(writer)",
        "IpcBytesReceiver.TryReceive(Infinite, writer)",
        "IpcReceiverSet.Select()",
        "IpcReceiverSet.TrySelect(Infinite)",
        "IpcServer.Accept()",
        "IpcServer.Accept(Infinite)",
        "IpcOneShotServer.Accept()",
        "IpcOneShotServer.Accept(Infinite)",
    ];

    private static readonly string[] s_hourWaits =
    [
        "IpcReceiver.TryReceive(1 h)",
        "IpcBytesReceiver.TryReceive(1 h)",
        "IpcBytesReceiver.TryReceive(1 h, writer)",
        "IpcReceiverSet.TrySelect(1 h)",
        "IpcServer.Accept(1 h)",
        "IpcOneShotServer.Accept(1 h)",
    ];

    public static TheoryData<string> ForeverWaits => new(s_foreverWaits);

    public static TheoryData<string> EveryWait => new([.. s_foreverWaits, .. s_hourWaits]);

    public static TheoryData<string> AsyncWaits => new()
    {
        "IpcReceiver.ReceiveAsync",
        "IpcBytesReceiver.ReceiveAsync",
        "IpcBytesReceiver.ReceiveAsync(writer)",
        "IpcReceiverSet.SelectAsync",
        "IpcServer.AcceptAsync",
        "IpcOneShotServer.AcceptAsync",
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(ForeverWaits))]
    public async Task InfiniteWait_EventArrivesAfterTheCallBlocked_IsReturned(string call)
    {
        using Scenario scenario = Scenario.Create(call);
        Task<int> waiting = await BlockedCall.StartAsync(scenario.Wait);

        scenario.Arrive();
        Assert.Equal(Value, await waiting.WithTimeout());
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(EveryWait))]
    public async Task Dispose_WhileAnotherThreadIsBlockedInTheCall_ReleasesItWithObjectDisposed(string call)
    {
        using Scenario scenario = Scenario.Create(call);
        Task<int> waiting = await BlockedCall.StartAsync(scenario.Wait);

        scenario.DisposeTarget();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WithTimeout(Release));
        scenario.AssertPeerSeesTheEndClosed();
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AsyncWaits))]
    public async Task Dispose_WhileAnAsyncCallIsPending_FailsItWithObjectDisposed(string call)
    {
        using Scenario scenario = Scenario.Create(call);
        Task<int> pending = scenario.WaitAsync();
        Assert.False(pending.IsCompleted);

        scenario.DisposeTarget();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WithTimeout(Release));
        scenario.AssertPeerSeesTheEndClosed();
    }

    [Fact(Timeout = 60_000)]
    public async Task Router_RouteWhoseMessageComesAfterTheRouterBlocked_RunsItsHandler()
    {
        using var router = new IpcRouter();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            var handled = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            router.AddRoute(rx, value => handled.TrySetResult(value));
            int thread = ProcFs.FindThread(Environment.ProcessId, "IpcChannel rout") ?? throw new InvalidOperationException("no router thread");
            Poll.Until(() => Syscalls.EpollWait.Contains(ProcFs.Syscall(Environment.ProcessId, thread)), "the router to wait in epoll_wait");

            tx.Send(Value);
            Assert.Equal(Value, await handled.Task.WithTimeout());
        }
    }

    /// <summary>One waiting call on one IPC object, with what makes it return and what disposes the object.</summary>
    private sealed class Scenario : IDisposable
    {
        private readonly List<IDisposable> _owned = [];
        private Func<int>? _wait;
        private Func<Task<int>>? _waitAsync;
        private Action? _arrive;
        private Action? _disposeTarget;
        private Action? _assertClosed;

        public int Wait() => _wait!();

        public Task<int> WaitAsync() => _waitAsync!();

        public void Arrive() => _arrive!();

        public void DisposeTarget() => _disposeTarget!();

        /// <summary>Checks that disposing really closed the OS object (a sender sees the disconnect, or the name is gone).</summary>
        public void AssertPeerSeesTheEndClosed() => _assertClosed!();

        public void Dispose()
        {
            foreach (IDisposable owned in _owned)
            {
                owned.Dispose();
            }
        }

        public static Scenario Create(string call)
        {
            var s = new Scenario();
            string target = call[..call.IndexOf('.', StringComparison.Ordinal)];
            string method = call[(call.IndexOf('.', StringComparison.Ordinal) + 1)..];
            TimeSpan timeout = method.Contains("Infinite", StringComparison.Ordinal) ? Timeout.InfiniteTimeSpan : Hour;
            switch (target)
            {
                case "IpcReceiver":
                {
                    (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
                    s._owned.Add(tx);
                    s._owned.Add(rx);
                    s._wait = method == "Receive()"
                        ? rx.Receive
                        : () => rx.TryReceive(timeout, out int value) ? value : throw new TimeoutException("TryReceive returned false");
                    s._waitAsync = () => rx.ReceiveAsync().AsTask();
                    s._arrive = () => tx.Send(Value);
                    s._disposeTarget = rx.Dispose;
                    s._assertClosed = () => ReceiveExtensions.AssertSendRefused(() => tx.Send(Value));
                    break;
                }

                case "IpcBytesReceiver":
                {
                    (IpcBytesSender tx, IpcBytesReceiver rx) = Ipc.BytesChannel();
                    s._owned.Add(tx);
                    s._owned.Add(rx);
                    var writer = new ArrayBufferWriter<byte>();
                    s._wait = method switch
                    {
                        "Receive()" => () => rx.Receive()[0],
                        "Receive(writer)" => () =>
                        {
                            rx.Receive(writer);
                            return writer.WrittenSpan[0];
                        },
                        _ when method.Contains("writer", StringComparison.Ordinal) => () =>
                            rx.TryReceive(timeout, writer) ? writer.WrittenSpan[0] : throw new TimeoutException("TryReceive returned false"),
                        _ => () => rx.TryReceive(timeout, out byte[]? data) ? data[0] : throw new TimeoutException("TryReceive returned false"),
                    };
                    s._waitAsync = method.Contains("writer", StringComparison.Ordinal)
                        ? async () =>
                        {
                            await rx.ReceiveAsync(writer);
                            return writer.WrittenSpan[0];
                        }
                        : async () => (await rx.ReceiveAsync())[0];
                    s._arrive = () => tx.Send([Value]);
                    s._disposeTarget = rx.Dispose;
                    s._assertClosed = () => ReceiveExtensions.AssertSendRefused(() => tx.Send([Value]));
                    break;
                }

                case "IpcReceiverSet":
                {
                    var set = new IpcReceiverSet();
                    (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
                    set.Add(rx);
                    s._owned.Add(tx);
                    s._owned.Add(set);
                    s._wait = () =>
                    {
                        IReadOnlyList<IpcSelectionResult> events = method == "Select()" ? set.Select() : set.TrySelect(timeout);
                        return Assert.IsType<IpcMessageReceived>(Assert.Single(events)).Message.Deserialize<int>();
                    };
                    s._waitAsync = async () => Assert.IsType<IpcMessageReceived>(Assert.Single(await set.SelectAsync())).Message.Deserialize<int>();
                    s._arrive = () => tx.Send(Value);
                    s._disposeTarget = set.Dispose;
                    s._assertClosed = () => ReceiveExtensions.AssertSendRefused(() => tx.Send(Value));
                    break;
                }

                case "IpcServer":
                {
                    var server = new IpcServer<int>();
                    s._owned.Add(server);
                    s._wait = () =>
                    {
                        (IpcReceiver<int> rx, int first, _) = method == "Accept()" ? server.Accept() : server.Accept(timeout);
                        rx.Dispose();
                        return first;
                    };
                    s._waitAsync = async () =>
                    {
                        (IpcReceiver<int> rx, int first, _) = await server.AcceptAsync();
                        rx.Dispose();
                        return first;
                    };
                    s._arrive = () => ConnectAndSend(s, server.Name);
                    s._disposeTarget = server.Dispose;
                    s._assertClosed = () => Assert.Throws<IpcException>(() => IpcSender<int>.Connect(server.Name).Dispose());
                    break;
                }

                case "IpcOneShotServer":
                {
                    var server = new IpcOneShotServer<int>();
                    s._owned.Add(server);
                    s._wait = () =>
                    {
                        (IpcReceiver<int> rx, int first) = method == "Accept()" ? server.Accept() : server.Accept(timeout);
                        rx.Dispose();
                        return first;
                    };
                    s._waitAsync = async () =>
                    {
                        (IpcReceiver<int> rx, int first) = await server.AcceptAsync();
                        rx.Dispose();
                        return first;
                    };
                    s._arrive = () => ConnectAndSend(s, server.Name);
                    s._disposeTarget = server.Dispose;
                    s._assertClosed = () => Assert.Throws<IpcException>(() => IpcSender<int>.Connect(server.Name).Dispose());
                    break;
                }

                default:
                    throw new ArgumentException($"unknown call {call}", nameof(call));
            }

            return s;
        }

        private static void ConnectAndSend(Scenario s, string name)
        {
            IpcSender<int> client = IpcSender<int>.Connect(name);
            s._owned.Add(client);
            client.Send(Value);
        }
    }
}
