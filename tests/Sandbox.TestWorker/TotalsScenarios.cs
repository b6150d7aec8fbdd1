using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using IpcChannel.Tests.Support;

namespace IpcChannel.Sandbox.TestWorker;

/// <summary>Scenarios that try to exceed the worker's totals: native memory, threads, descriptors in flight.</summary>
internal static unsafe class TotalsScenarios
{
    /// <summary>Allocates and touches <paramref name="megabytes"/> MiB of native memory in 16 MiB blocks, keeping all of it.</summary>
    public static int NativeAlloc(int megabytes)
    {
        const int Block = 16;
        int allocated = 0;
        while (allocated < megabytes)
        {
            // Past RLIMIT_DATA malloc fails: NativeMemory.Alloc throws OutOfMemoryException, on which the sandbox fails fast.
            byte* block = (byte*)NativeMemory.Alloc(Block << 20);
            new Span<byte>(block, Block << 20).Fill(1);
            allocated += Block;
        }

        Console.WriteLine($"NATIVE {allocated} MiB");
        return 0;
    }

    /// <summary>
    /// Starts native threads (64 KiB stacks, each parked in <c>pause</c>) until <paramref name="max"/> run or
    /// <c>pthread_create</c> fails; prints <c>THREADS &lt;created&gt; error=&lt;errno&gt;</c>. The process exit ends them.
    /// </summary>
    public static int Threads(int max)
    {
        nint pause = NativeLibrary.GetExport(NativeLibrary.Load("libc.so.6"), "pause");
        byte* attr = stackalloc byte[Native.PthreadAttrSize];
        if (Native.PthreadAttrInit(attr) != 0 || Native.PthreadAttrSetStackSize(attr, 64 * 1024) != 0)
        {
            throw new InvalidOperationException("pthread_attr_init/pthread_attr_setstacksize failed");
        }

        int created = 0;
        int error = 0;
        for (; created < max; created++)
        {
            nuint thread;
            error = Native.PthreadCreate(&thread, attr, pause, 0);
            if (error != 0)
            {
                break;
            }
        }

        _ = Native.PthreadAttrDestroy(attr);
        Console.WriteLine($"THREADS {created} error={error}");
        return 0;
    }

    /// <summary>
    /// Queues <paramref name="wanted"/> descriptors in flight on a socketpair it keeps and never reads (or until
    /// sendmsg fails); prints <c>INFLIGHT &lt;n&gt; errno=&lt;e&gt;</c> and then holds them until it is killed.
    /// </summary>
    public static int HoldInFlight(int wanted)
    {
        (int held, int errno) = InFlightDescriptors.Hold(wanted, new List<int>());
        Console.WriteLine($"INFLIGHT {held} errno={errno}");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>Sends one descriptor over a fresh socketpair; prints <c>SENT errno=&lt;e&gt;</c> (0: it went).</summary>
    public static int SendOne()
    {
        Console.WriteLine($"SENT errno={InFlightDescriptors.SendOne()}");
        return 0;
    }
}
