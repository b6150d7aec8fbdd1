using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;

namespace IpcChannel.Core.Tests.Helpers;

/// <summary>
/// Runs a blocking call on a thread of its own and returns once that thread is really waiting inside it (blocked
/// in the kernel in poll, epoll_wait or recvmsg, as /proc reports), so a test acts on a waiter without guessing
/// how long it takes to get there.
/// </summary>
public static class BlockedCall
{
    private static readonly long[] s_waits = [.. Syscalls.Poll, .. Syscalls.EpollWait, .. Syscalls.RecvMsg];

    /// <summary>Starts <paramref name="call"/> and waits (bounded) until it blocks.</summary>
    /// <typeparam name="T">What the call returns.</typeparam>
    /// <param name="call">The blocking call.</param>
    /// <returns>The call's outcome; await it with a bound.</returns>
    public static async Task<Task<T>> StartAsync<T>(Func<T> call)
    {
        var thread = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<T> running = Task.Factory.StartNew(
            () =>
            {
                thread.SetResult(Posix.GetTid());
                return call();
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        int tid = await thread.Task.WaitAsync(TaskTimeoutExtensions.Default).ConfigureAwait(false);
        Poll.Until(
            () => running.IsCompleted || s_waits.Contains(ProcFs.Syscall(Environment.ProcessId, tid)),
            "the call to block in poll, epoll_wait or recvmsg");
        if (running.IsCompleted)
        {
            // It returned or threw instead of waiting: let the test see what happened.
            await running.ConfigureAwait(false);
            throw new InvalidOperationException($"The call returned {running.Result} instead of waiting.");
        }

        return running;
    }
}
