using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace IpcChannel.Sandbox.TestWorker;

/// <summary>Scenarios that try to exceed the worker's totals: native memory, threads, descriptors in flight.</summary>
internal static unsafe class TotalsScenarios
{
    /// <summary>The most descriptors one SCM_RIGHTS message carries (the kernel's SCM_MAX_FD is 253).</summary>
    private const int FdsPerMessage = 250;

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
    /// Queues descriptors in flight — one descriptor, <see cref="FdsPerMessage"/> times per message — on a datagram
    /// socketpair it keeps and never reads, until <paramref name="wanted"/> are queued or sendmsg fails; prints
    /// <c>INFLIGHT &lt;n&gt; errno=&lt;e&gt;</c> and then holds them until it is killed.
    /// </summary>
    public static int HoldInFlight(int wanted)
    {
        int* pair = stackalloc int[2];
        if (Native.SocketPair(Native.AF_UNIX, Native.SOCK_DGRAM | Native.SOCK_CLOEXEC, 0, pair) != 0)
        {
            Console.WriteLine($"INFLIGHT 0 errno={Native.Errno()}");
            return 0;
        }

        int inFlight = 0;
        int errno = 0;
        while (inFlight < wanted)
        {
            int count = Math.Min(FdsPerMessage, wanted - inFlight);
            errno = SendFds(pair[0], pair[1], count);
            if (errno != 0)
            {
                break;
            }

            inFlight += count;
        }

        Console.WriteLine($"INFLIGHT {inFlight} errno={errno}");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>Sends one descriptor over a fresh socketpair; prints <c>SENT errno=&lt;e&gt;</c> (0: it went).</summary>
    public static int SendOne()
    {
        int* pair = stackalloc int[2];
        int errno = Native.SocketPair(Native.AF_UNIX, Native.SOCK_DGRAM | Native.SOCK_CLOEXEC, 0, pair) != 0
            ? Native.Errno()
            : SendFds(pair[0], pair[1], 1);
        Console.WriteLine($"SENT errno={errno}");
        return 0;
    }

    /// <summary>Sends <paramref name="count"/> copies of <paramref name="fd"/> in one message on <paramref name="socket"/>; returns the errno, or 0.</summary>
    private static int SendFds(int socket, int fd, int count)
    {
        int space = sizeof(Native.CMsgHdr) + ((count * sizeof(int)) + 7 & ~7);
        byte* control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        var header = (Native.CMsgHdr*)control;
        header->Length = (nuint)(sizeof(Native.CMsgHdr) + (count * sizeof(int)));
        header->Level = Native.SOL_SOCKET;
        header->Type = Native.SCM_RIGHTS;
        int* fds = (int*)(control + sizeof(Native.CMsgHdr));
        for (int i = 0; i < count; i++)
        {
            fds[i] = fd;
        }

        byte payload = 1;
        var iov = new Native.IoVec { Base = &payload, Length = 1 };
        var message = new Native.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
        return Native.SendMsg(socket, &message, Native.MSG_DONTWAIT) < 0 ? Native.Errno() : 0;
    }
}
