using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using IpcChannel.Tests.Support;

namespace IpcChannel.Supervisor.TestHost;

/// <summary>The probes of the worker's totals: native memory, descriptors in flight.</summary>
public sealed unsafe partial class SandboxProbeWorker
{
    /// <summary>Native blocks kept alive (never freed: the worker is meant to die of them).</summary>
    private readonly List<nint> _native = new();

    /// <summary>The socketpairs whose queues hold descriptors in flight (never read, never closed).</summary>
    private readonly List<int> _heldPairs = new();

    /// <summary>Allocates and touches <paramref name="megabytes"/> MiB of native memory; past RLIMIT_DATA this throws OutOfMemoryException, on which the sandbox fails fast.</summary>
    private SandboxReport NativeAlloc(int megabytes)
    {
        const int Block = 16;
        for (int done = 0; done < megabytes; done += Block)
        {
            byte* block = (byte*)NativeMemory.Alloc(Block << 20);
            new Span<byte>(block, Block << 20).Fill(1);
            _native.Add((nint)block);
        }

        return new SandboxReport(true, $"allocated {megabytes} MiB natively", true, "");
    }

    /// <summary>Queues <paramref name="count"/> descriptors in flight on a socketpair it keeps and never reads; the kernel counts them against this user.</summary>
    private SandboxReport HoldInFlight(int count)
    {
        (int held, int errno) = InFlightDescriptors.Hold(count, _heldPairs);
        return new SandboxReport(errno == 0, $"held {held} errno={errno}", errno == 0, "");
    }
}
