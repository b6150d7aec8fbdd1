using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Core.Tests.Helpers;

/// <summary>Bounded forms of the blocking receives, so a broken channel fails a test instead of hanging it.</summary>
public static class ReceiveExtensions
{
    /// <summary>How long a test waits for something that should arrive promptly.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs a blocking call (such as <c>Receive()</c>, which has no timeout of its own) on another thread and waits for
    /// it at most <see cref="Patience"/>, so a regression fails the test instead of hanging it.
    /// </summary>
    /// <returns>What the call returned; an exception it threw is rethrown as is.</returns>
    public static T Bounded<T>(Func<T> call, TimeSpan? timeout = null)
    {
        Task<T> running = Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        TimeSpan limit = timeout ?? Patience;
        if (!((IAsyncResult)running).AsyncWaitHandle.WaitOne(limit))
        {
            throw new TimeoutException($"The blocking call did not return within {limit}.");
        }

        return running.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Asserts that sending fails with <see cref="IpcDisconnectedException"/> because the receiving end is closed.
    /// Sends repeatedly (bounded): while another test's child process is between fork and exec it still holds a
    /// copy of every descriptor, so the first send after a close may still find the peer open.
    /// </summary>
    public static void AssertSendRefused(Action send) =>
        Xunit.Assert.Throws<IpcDisconnectedException>(() =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                send();
            }
        });

    /// <summary>Receives the next message, or fails after <see cref="Patience"/>.</summary>
    public static T ReceiveWithin<T>(this IpcReceiver<T> receiver, TimeSpan? timeout = null) =>
        receiver.TryReceive(timeout ?? Patience, out T? value)
            ? value
            : throw new TimeoutException($"Nothing arrived on the IpcReceiver<{typeof(T).Name}> in time.");

    /// <summary>Receives the next bytes message, or fails after <see cref="Patience"/>.</summary>
    public static byte[] ReceiveWithin(this IpcBytesReceiver receiver, TimeSpan? timeout = null) =>
        receiver.TryReceive(timeout ?? Patience, out byte[]? value)
            ? value
            : throw new TimeoutException("Nothing arrived on the IpcBytesReceiver in time.");

    /// <summary>Selects until <paramref name="count"/> events were collected, or fails after <see cref="Patience"/>.</summary>
    public static List<IpcSelectionResult> SelectAtLeast(this IpcReceiverSet set, int count, TimeSpan? timeout = null)
    {
        var events = new List<IpcSelectionResult>();
        long start = Stopwatch.GetTimestamp();
        TimeSpan limit = timeout ?? Patience;
        while (events.Count < count)
        {
            TimeSpan left = limit - Stopwatch.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Only {events.Count} of {count} receiver-set events arrived in time.");
            }

            events.AddRange(set.TrySelect(left));
        }

        return events;
    }

    /// <summary>Asserts the receiver reports the disconnection within <see cref="Patience"/> (and nothing else first).</summary>
    public static void AssertDisconnectedWithin<T>(this IpcReceiver<T> receiver, TimeSpan? timeout = null)
    {
        try
        {
            if (receiver.TryReceive(timeout ?? Patience, out T? value))
            {
                throw new Xunit.Sdk.XunitException($"Expected the channel to be disconnected, but received {value}.");
            }

            throw new Xunit.Sdk.XunitException("Expected the channel to be disconnected, but it stayed open.");
        }
        catch (IpcDisconnectedException)
        {
        }
    }
}
