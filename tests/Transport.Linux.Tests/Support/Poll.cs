using System;
using System.Threading;

namespace IpcChannel.Tests.Support;

/// <summary>Bounded waits for conditions that nothing signals (another process's state, /proc contents).</summary>
public static class Poll
{
    /// <summary>Spins (then yields) until <paramref name="condition"/> holds; fails after <paramref name="timeout"/>.</summary>
    public static void Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        TimeSpan bound = timeout ?? TimeSpan.FromSeconds(20);
        if (!SpinWait.SpinUntil(condition, bound))
        {
            throw new TimeoutException($"Timed out after {bound} waiting for {what}.");
        }
    }
}
