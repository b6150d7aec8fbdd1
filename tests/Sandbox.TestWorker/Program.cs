using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Sandbox;

namespace IpcChannel.Sandbox.TestWorker;

/// <summary>
/// The worker program the sandbox tests launch: <c>IpcChannel.Sandbox.TestWorker &lt;scenario&gt; [args]</c>, always
/// through <see cref="SandboxLauncher.Plan(SandboxOptions, SandboxLaunchSpec, string, SandboxMachine, System.Collections.Generic.IReadOnlyDictionary{string, string})"/>
/// (sandbox on or off). It calls the two stages exactly as a real worker does, with a thread started and the thread
/// pool warmed before stage 2, then runs the scenario and reports on stdout, one line per fact.
/// </summary>
internal static class Program
{
    /// <summary>
    /// Kept tiny on purpose: stage 1 runs before anything else is JIT-compiled or loaded (an async Main would compile
    /// its whole state machine, and load the assemblies it names, before the first line runs).
    /// </summary>
    private static Task<int> Main(string[] args)
    {
        // Stage 1 first thing: with the sandbox on, this process re-executes itself here and never returns.
        SandboxStages.RunFirstStageIfRequested();
        return WorkerMainAsync(args);
    }

    private static async Task<int> WorkerMainAsync(string[] args)
    {
        // A thread that exists before the seccomp filter, and thread-pool threads that do too.
        using var early = new ParkedThread("early-thread");
        using (var poolRan = new CountdownEvent(2))
        {
            // Warm the thread pool without awaiting, so that Main stays on the main thread for the probes.
            ThreadPool.UnsafeQueueUserWorkItem(_ => poolRan.Signal(), null);
            ThreadPool.UnsafeQueueUserWorkItem(_ => poolRan.Signal(), null);
            if (!poolRan.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("the thread pool did not run two work items within 30 s");
            }
        }

        SandboxStatus status = SandboxStages.ApplySecondStage();
        Console.WriteLine($"STATUS sandboxed={status.IsSandboxed} layers={(int)status.Layers} landlock={status.LandlockAbi} threads={status.ThreadsVerified}");

        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: IpcChannel.Sandbox.TestWorker <scenario> [args]");
            return 64;
        }

        try
        {
            return await Scenarios.RunAsync(args[0], args[1..], early, status).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"scenario {args[0]} failed: {e}");
            return 70;
        }
    }
}

/// <summary>A thread started before the sandbox's second stage, which runs work handed to it later.</summary>
internal sealed class ParkedThread : IDisposable
{
    private readonly BlockingCollection<(Func<string> Work, TaskCompletionSource<string> Result)> _queue = new();
    private readonly Thread _thread;

    public ParkedThread(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the parked thread.</summary>
    public Task<string> RunAsync(Func<string> work)
    {
        var result = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add((work, result));
        return result.Task;
    }

    public void Dispose() => _queue.CompleteAdding();

    private void Loop()
    {
        foreach ((Func<string> work, TaskCompletionSource<string> result) in _queue.GetConsumingEnumerable())
        {
            try
            {
                result.SetResult(work());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        }
    }
}
