using System;
using System.Collections.Generic;
using System.Threading;

namespace IpcChannel.Supervisor.Parent.Policy;

/// <summary>One step of stopping a worker.</summary>
internal enum StopAction
{
    /// <summary>The graceful stop message (the worker's host stops, exit 0).</summary>
    Message,

    /// <summary>SIGTERM (the worker's host stops gracefully too, exit 0).</summary>
    Terminate,

    /// <summary>SIGKILL.</summary>
    Kill,
}

/// <summary>One step of stopping a worker and how long to wait for its exit after it.</summary>
/// <param name="Action">What to do.</param>
/// <param name="Wait">How long the worker then has to exit; <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
internal readonly record struct StopStep(StopAction Action, TimeSpan Wait)
{
    /// <summary>How long a killed process is waited for (the kernel ends it; this only bounds a stuck observation).</summary>
    public static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The OTP <c>shutdown</c> of a worker as steps: <see cref="IpcWorkerOptions.StopTimeout"/> zero is
    /// <c>brutal_kill</c> (SIGKILL at once); <see cref="Timeout.InfiniteTimeSpan"/> is <c>infinity</c> (the stop message,
    /// then wait as long as it takes); otherwise the stop message, SIGTERM after <c>StopTimeout</c>, SIGKILL after
    /// <see cref="IpcWorkerOptions.TerminateTimeout"/>. A worker that has not said hello yet gets no message.
    /// </summary>
    /// <param name="options">The worker's options.</param>
    /// <param name="connected">Whether the worker said hello (it can receive the stop message).</param>
    /// <returns>The steps, in order; the last one's exit ends the stop.</returns>
    public static IReadOnlyList<StopStep> For(IpcWorkerOptions options, bool connected)
    {
        if (options.StopTimeout == TimeSpan.Zero)
        {
            return [new StopStep(StopAction.Kill, KillWait)];
        }

        if (options.StopTimeout == Timeout.InfiniteTimeSpan && connected)
        {
            return [new StopStep(StopAction.Message, Timeout.InfiniteTimeSpan)];
        }

        var steps = new List<StopStep>(3);
        if (connected)
        {
            steps.Add(new StopStep(StopAction.Message, options.StopTimeout));
        }

        steps.Add(new StopStep(StopAction.Terminate, options.TerminateTimeout));
        steps.Add(new StopStep(StopAction.Kill, KillWait));
        return steps;
    }
}
