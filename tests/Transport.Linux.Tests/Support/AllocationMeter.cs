using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace IpcChannel.Tests.Support;

/// <summary>Counts the bytes that code allocates, on a thread of its own that does nothing else.</summary>
/// <remarks>
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> also counts what the runtime itself allocates on the measured
/// thread now and then (a method promoted by tiered compilation, the array pool refilling a bucket that a gen2 GC
/// trimmed under memory pressure). Those are one-off events, so the code is measured over consecutive windows of
/// the same work: an allocation of the code under test shows in every window, a one-off of the runtime in one.
/// </remarks>
public static class AllocationMeter
{
    /// <summary>Runs <paramref name="warmUp"/>, then <paramref name="window"/> until a window allocates nothing.</summary>
    /// <param name="warmUp">First-use work (lazy statics, pools, buffers growing to size).</param>
    /// <param name="window">The measured work; it must not allocate anything itself (assertions go after).</param>
    /// <param name="maxWindows">How many windows to try before reporting the counts.</param>
    /// <returns>The bytes allocated in each window measured; the last is 0 when the steady state allocates nothing.</returns>
    public static IReadOnlyList<long> AllocatedPerWindow(Action warmUp, Action window, int maxWindows = 3)
    {
        var counts = new List<long>(maxWindows);
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                warmUp();
                for (int i = 0; i < maxWindows; i++)
                {
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    window();
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    counts.Add(allocated);
                    if (allocated == 0)
                    {
                        return;
                    }
                }
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "allocation meter",
        };
        thread.Start();
        if (!thread.Join(TimeSpan.FromMinutes(3)))
        {
            throw new TimeoutException("The measured code did not finish within 3 minutes.");
        }

        failure?.Throw();
        return counts;
    }
}
