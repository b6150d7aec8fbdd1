using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>Routing messages to handlers and in-process channels (Rust test.rs: router_*).</summary>
public class RouterTests
{
    private static readonly Named s_person = new("Patrick Walton", 29);

    [Fact(Timeout = 30_000)] // Rust: router_simple_global (routes only: shutting down the process-wide router would break later users)
    public async Task Default_TypedRoutes_DeliverQueuedMessages()
    {
        (IpcSender<Named> personTx, IpcReceiver<Named> personRx) = Ipc.Channel<Named>();
        (IpcSender<ulong> numberTx, IpcReceiver<ulong> numberRx) = Ipc.Channel<ulong>();
        var person = new TaskCompletionSource<Named>(TaskCreationOptions.RunContinuationsAsynchronously);
        var number = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        var personClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var numberClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (personTx)
        using (numberTx)
        {
            personTx.Send(s_person);
            numberTx.Send(42);
            IpcRouter.Default.AddRoute(personRx, p => person.TrySetResult(p), () => personClosed.TrySetResult());
            IpcRouter.Default.AddRoute(numberRx, n => number.TrySetResult(n), () => numberClosed.TrySetResult());
            Assert.Equal(s_person, await person.Task.WithTimeout());
            Assert.Equal(42ul, await number.Task.WithTimeout());
        }

        // The process-wide router outlives the test: wait until it has closed this test's receivers.
        await Task.WhenAll(personClosed.Task, numberClosed.Task).WithTimeout();
        Assert.Same(IpcRouter.Default, IpcRouter.Default);
    }

    [Fact(Timeout = 30_000)] // Rust: router_simple_global (the shutdown half) and router_shutdown
    public async Task Shutdown_RoutesAddedAfterwardAreDropped_AndASecondShutdownIsANoOp()
    {
        var router = new IpcRouter();
        router.Shutdown();
        router.Shutdown();
        router.Dispose();

        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            tx.Send(1);
            int handled = 0;
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            router.AddRoute(rx, _ => Interlocked.Increment(ref handled), () => closed.TrySetResult());
            await closed.Task.WithTimeout();
            Assert.Equal(0, Volatile.Read(ref handled));
            Assert.Throws<ObjectDisposedException>(() => rx.TryReceive(out _));
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(2));
        }

        (IpcSender<int> tx2, IpcReceiver<int> rx2) = Ipc.Channel<int>();
        using (tx2)
        {
            ChannelReader<int> reader = router.RouteToChannel(rx2);
            await reader.Completion.WithTimeout();
            Assert.False(reader.TryRead(out _));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Shutdown_WithLiveRoutes_EndsThemAndClosesTheirReceivers()
    {
        var router = new IpcRouter();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            var handled = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            router.AddRoute(rx, v => handled.TrySetResult(v), () => closed.TrySetResult());
            tx.Send(1);
            Assert.Equal(1, await handled.Task.WithTimeout());

            router.Shutdown();
            await closed.Task.WithTimeout();
            ReceiveExtensions.AssertSendRefused(() => tx.Send(2));
        }
    }

    [Fact(Timeout = 30_000)] // Rust: router_routing_to_new_crossbeam_receiver
    public async Task RouteToChannel_QueuedMessage_Appears_ThenCompletesOnDisconnect()
    {
        using var router = new IpcRouter();
        (IpcSender<Named> tx, IpcReceiver<Named> rx) = Ipc.Channel<Named>();
        tx.Send(s_person);
        ChannelReader<Named> reader = router.RouteToChannel(rx);
        Assert.Equal(s_person, await reader.ReadAsync().WithTimeout());
        tx.Dispose();
        await reader.Completion.WithTimeout();
    }

    [Fact(Timeout = 30_000)] // Rust: router_multiplexing
    public async Task RouteToChannel_TwoReceivers_BothDeliver()
    {
        using var router = new IpcRouter();
        (IpcSender<Named> tx0, IpcReceiver<Named> rx0) = Ipc.Channel<Named>();
        (IpcSender<Named> tx1, IpcReceiver<Named> rx1) = Ipc.Channel<Named>();
        using (tx0)
        using (tx1)
        {
            ChannelReader<Named> reader0 = router.RouteToChannel(rx0);
            ChannelReader<Named> reader1 = router.RouteToChannel(rx1);
            tx0.Send(s_person with { Age = 0 });
            tx1.Send(s_person with { Age = 1 });
            Assert.Equal(s_person with { Age = 0 }, await reader0.ReadAsync().WithTimeout());
            Assert.Equal(s_person with { Age = 1 }, await reader1.ReadAsync().WithTimeout());
        }
    }

    [Fact(Timeout = 30_000)] // Rust: router_multithreaded_multiplexing
    public async Task RouteToChannel_SendsFromOtherThreads_BothDeliverInOrder()
    {
        using var router = new IpcRouter();
        (IpcSender<int> tx0, IpcReceiver<int> rx0) = Ipc.Channel<int>();
        (IpcSender<int> tx1, IpcReceiver<int> rx1) = Ipc.Channel<int>();
        ChannelReader<int> reader0 = router.RouteToChannel(rx0);
        ChannelReader<int> reader1 = router.RouteToChannel(rx1);
        Task send0 = Task.Factory.StartNew(() => SendAll(tx0, 500), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Task send1 = Task.Factory.StartNew(() => SendAll(tx1, 500), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.Equal(Range(500), await ReadAll(reader0).WithTimeout());
        Assert.Equal(Range(500), await ReadAll(reader1).WithTimeout());
        await Task.WhenAll(send0, send1).WithTimeout();

        static void SendAll(IpcSender<int> tx, int count)
        {
            using (tx)
            {
                for (int i = 0; i < count; i++)
                {
                    tx.Send(i);
                }
            }
        }
    }

    [Fact(Timeout = 60_000)] // Rust: router_drops_callbacks_on_sender_shutdown
    public async Task AddRoute_OnlySenderDisposed_RunsOnClosed_AndReleasesTheCallbacksAndWhatTheyCapture()
    {
        using var router = new IpcRouter();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new BlockingCollection<int>();
        WeakReference captured = AddRouteCapturingAnObject(router, rx, handled, closed);
        tx.Send(1);
        Assert.True(handled.TryTake(out int first, ReceiveExtensions.Patience));
        Assert.Equal(1, first);

        tx.Dispose();
        await closed.Task.WithTimeout();
        AssertCollected(captured);
    }

    [Fact(Timeout = 60_000)] // Rust: router_drops_callbacks_on_cloned_sender_shutdown
    public async Task AddRoute_ClonesDisposedFirst_OnClosedRunsOnlyAfterTheLastSender_ThenTheCallbacksAreReleased()
    {
        using var router = new IpcRouter();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new BlockingCollection<int>();
        WeakReference captured = AddRouteCapturingAnObject(router, rx, handled, closed);
        foreach (IpcSender<int> clone in new[] { tx.Clone(), tx.Clone(), tx.Clone() })
        {
            clone.Dispose();
        }

        // A marker sent after the clones are gone is handled, and the route has not closed before it.
        tx.Send(7);
        Assert.True(handled.TryTake(out int marker, ReceiveExtensions.Patience));
        Assert.Equal(7, marker);
        Assert.False(closed.Task.IsCompleted);
        Assert.True(captured.IsAlive);

        tx.Dispose();
        await closed.Task.WithTimeout();
        AssertCollected(captured);
    }

    [Fact(Timeout = 60_000)] // Rust: router_once_handler
    public async Task AddOneShotRoute_TwoMessagesQueued_HandlerRunsOnceWithTheFirst_ThenTheRouteEndsAndIsReleased()
    {
        using var router = new IpcRouter();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            tx.Send(1);
            tx.Send(2);
            var handled = new BlockingCollection<int>();
            WeakReference captured = AddOneShotRouteCapturingAnObject(router, rx, handled);
            Assert.True(handled.TryTake(out int first, ReceiveExtensions.Patience));
            Assert.Equal(1, first);

            // The route ended after its message: the receiver is closed, so the sender sees the disconnect.
            ReceiveExtensions.AssertSendRefused(() => tx.Send(3));
            AssertCollected(captured);

            // Nothing more reached the handler; and the router goes on serving other routes.
            Assert.Empty(handled);
            (IpcSender<int> other, IpcReceiver<int> otherRx) = Ipc.Channel<int>();
            using (other)
            {
                var reader = router.RouteToChannel(otherRx);
                other.Send(4);
                Assert.Equal(4, await reader.ReadAsync().AsTask().WithTimeout());
            }
        }
    }

    [Fact(Timeout = 300_000)] // Rust: router flood
    public async Task AddRoute_100RoutesFlooded_With100000MessagesInAll_EveryMessageIsHandledInOrder_ThenEveryRouteCloses()
    {
        const int Routes = 100;
        const int PerRoute = 1_000;
        using var router = new IpcRouter();
        var senders = new IpcSender<int>[Routes];
        int[] next = new int[Routes];
        int outOfOrder = 0;
        using var allClosed = new CountdownEvent(Routes);
        for (int r = 0; r < Routes; r++)
        {
            int route = r;
            (senders[r], IpcReceiver<int> rx) = Ipc.Channel<int>();
            router.AddRoute(
                rx,
                value =>
                {
                    // Handlers run on the one router thread: no synchronisation needed.
                    outOfOrder += value == next[route] ? 0 : 1;
                    next[route]++;
                },
                () => allClosed.Signal());
        }

        Task flooding = Task.Run(() =>
        {
            for (int i = 0; i < PerRoute; i++)
            {
                foreach (IpcSender<int> sender in senders)
                {
                    sender.Send(i);
                }
            }

            foreach (IpcSender<int> sender in senders)
            {
                sender.Dispose();
            }
        });
        await flooding.WithTimeout(TimeSpan.FromMinutes(4));
        Assert.True(allClosed.Wait(TimeSpan.FromMinutes(1)), $"{allClosed.CurrentCount} of {Routes} routes did not close");
        Assert.Equal(0, outOfOrder);
        Assert.All(next, handled => Assert.Equal(PerRoute, handled));
    }

    /// <summary>
    /// Adds a route whose handler and closed callback both capture a fresh object, and returns a weak reference to
    /// it; not inlined, so no local of the test keeps the object alive.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference AddRouteCapturingAnObject(IpcRouter router, IpcReceiver<int> rx, BlockingCollection<int> handled, TaskCompletionSource closed)
    {
        var state = new object();
        router.AddRoute(
            rx,
            value =>
            {
                GC.KeepAlive(state);
                handled.Add(value);
            },
            () =>
            {
                GC.KeepAlive(state);
                closed.TrySetResult();
            });
        return new WeakReference(state);
    }

    /// <summary>Adds a one-shot route whose handler captures a fresh object; returns a weak reference to it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference AddOneShotRouteCapturingAnObject(IpcRouter router, IpcReceiver<int> rx, BlockingCollection<int> handled)
    {
        var state = new object();
        router.AddOneShotRoute<int>(rx, value =>
        {
            GC.KeepAlive(state);
            handled.Add(value);
        });
        return new WeakReference(state);
    }

    /// <summary>Forces collections until the object is gone (the router lets go of a route once onClosed returned); bounded.</summary>
    private static void AssertCollected(WeakReference reference) =>
        Poll.Until(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                return !reference.IsAlive;
            },
            "the closed route's callbacks, and what they capture, to be collected");

    [Fact(Timeout = 30_000)] // Rust: router_big_data
    public async Task RouteToChannel_65536TuplesSentFromAnotherThread_ArriveIntact()
    {
        using var router = new IpcRouter();
        (IpcSender<List<(string, uint)>> tx, IpcReceiver<List<(string, uint)>> rx) = Ipc.Channel<List<(string, uint)>>();
        ChannelReader<List<(string, uint)>> reader = router.RouteToChannel(rx);
        var data = new List<(string, uint)>(65_536);
        for (uint i = 0; i < 65_536; i++)
        {
            data.Add(($"item {i}", i));
        }

        Task sending = Task.Run(() =>
        {
            using (tx)
            {
                tx.Send(data);
            }
        });
        List<(string, uint)> received = await reader.ReadAsync().WithTimeout();
        await sending.WithTimeout();
        Assert.Equal(data, received);
        await reader.Completion.WithTimeout();
    }

    [Fact(Timeout = 30_000)]
    public async Task AddRoute_HandlerThatThrows_IsLogged_AndTheRouterGoesOn()
    {
        var logger = new CapturingLogger();
        using var router = new IpcRouter(logger);
        Assert.Same(logger, router.Logger);
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        var handled = new BlockingCollection<int>();
        using (tx)
        {
            router.AddRoute(rx, v =>
            {
                if (v == 1)
                {
                    throw new InvalidOperationException("handler failure");
                }

                handled.Add(v);
            });
            tx.Send(1);
            tx.Send(2);
            Assert.True(handled.TryTake(out int next, ReceiveExtensions.Patience));
            Assert.Equal(2, next);
            logger.WaitFor(1);
            Assert.IsType<InvalidOperationException>(Assert.Single(logger.Entries).Error);
        }

        // Another route still works.
        (IpcSender<int> tx2, IpcReceiver<int> rx2) = Ipc.Channel<int>();
        using (tx2)
        {
            ChannelReader<int> reader = router.RouteToChannel(rx2);
            tx2.Send(3);
            Assert.Equal(3, await reader.ReadAsync().WithTimeout());
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task AddRoute_HandlersOfOneReceiver_RunInMessageOrder_OnOneThread()
    {
        using var router = new IpcRouter();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        var seen = new List<int>();
        var threads = new HashSet<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        router.AddRoute(
            rx,
            v =>
            {
                seen.Add(v);
                threads.Add(Environment.CurrentManagedThreadId);
            },
            () => done.TrySetResult());
        using (tx)
        {
            for (int i = 0; i < 200; i++)
            {
                tx.Send(i);
            }
        }

        await done.Task.WithTimeout();
        Assert.Equal(Range(200), seen);
        Assert.Single(threads);
    }

    [Fact(Timeout = 60_000)] // servo routes receivers that arrive in routed messages, from inside handlers
    public async Task AddRoute_CalledByHandlersHundredsOfTimesInOneBatch_EveryNewRouteRuns()
    {
        const int Registrars = 20;
        const int PerRegistrar = 16;
        using var router = new IpcRouter();
        var keep = new List<IDisposable>();
        int handled = 0;
        var allHandled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Hold the router thread in a handler while the registrars are routed, so their queued messages
        // (each carrying a receiver that the handler routes) all come back in one select.
        using var release = new ManualResetEventSlim();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (IpcSender<int> gateTx, IpcReceiver<int> gateRx) = Ipc.Channel<int>();
        keep.Add(gateTx);
        router.AddRoute(gateRx, _ =>
        {
            holding.TrySetResult();
            release.Wait(ReceiveExtensions.Patience);
        });
        gateTx.Send(0);
        await holding.Task.WithTimeout();

        for (int r = 0; r < Registrars; r++)
        {
            (IpcSender<IpcReceiver<int>> tx, IpcReceiver<IpcReceiver<int>> rx) = Ipc.Channel<IpcReceiver<int>>();
            keep.Add(tx);
            for (int i = 0; i < PerRegistrar; i++)
            {
                (IpcSender<int> innerTx, IpcReceiver<int> innerRx) = Ipc.Channel<int>();
                keep.Add(innerTx);
                innerTx.Send(i);
                tx.Send(innerRx);
            }

            router.AddRoute(rx, inner => router.AddRoute(inner, _ =>
            {
                if (Interlocked.Increment(ref handled) == Registrars * PerRegistrar)
                {
                    allHandled.TrySetResult();
                }
            }));
        }

        release.Set();
        try
        {
            await allHandled.Task.WaitAsync(ReceiveExtensions.Patience);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"only {Volatile.Read(ref handled)} of {Registrars * PerRegistrar} routes added by handlers ran");
        }
        finally
        {
            keep.ForEach(k => k.Dispose());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task AddRoute_RacingShutdown_EveryRouteEnds()
    {
        for (int iteration = 0; iteration < 100; iteration++)
        {
            var router = new IpcRouter();
            var readers = new List<ChannelReader<int>>();
            var senders = new List<IpcSender<int>>();
            using var go = new Barrier(2);
            Task adding = Task.Factory.StartNew(
                () =>
                {
                    go.SignalAndWait(ReceiveExtensions.Patience);
                    for (int i = 0; i < 20; i++)
                    {
                        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
                        senders.Add(tx);
                        readers.Add(router.RouteToChannel(rx));
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            go.SignalAndWait(ReceiveExtensions.Patience);
            router.Shutdown();
            await adding.WithTimeout();

            // Routed before the shutdown or dropped after it: either way each one ends, none is stranded.
            await Task.WhenAll(readers.Select(r => r.Completion)).WithTimeout();
            senders.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public void AddRoute_AfterShutdown_OnClosedThatThrows_IsLoggedNotThrown()
    {
        var logger = new CapturingLogger();
        var router = new IpcRouter(logger);
        router.Shutdown();
        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        {
            router.AddRoute(rx, _ => { }, () => throw new InvalidOperationException("closed callback failure"));
            logger.WaitFor(1);
            Assert.IsType<InvalidOperationException>(Assert.Single(logger.Entries).Error);
            Assert.Throws<IpcDisconnectedException>(() => tx.Send(1));
        }
    }

    private static List<int> Range(int count)
    {
        var list = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            list.Add(i);
        }

        return list;
    }

    private static async Task<List<int>> ReadAll(ChannelReader<int> reader)
    {
        var all = new List<int>();
        await foreach (int value in reader.ReadAllAsync())
        {
            all.Add(value);
        }

        return all;
    }
}
