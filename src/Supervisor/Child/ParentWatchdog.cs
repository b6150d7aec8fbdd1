using System;
using System.Diagnostics;
using System.Threading;
using Microsoft.Extensions.Hosting;

namespace IpcChannel.Supervisor.Child;

/// <summary>
/// Makes sure a worker never outlives its parent. Two independent signals trigger it: the parent's pidfd
/// becoming readable (the parent process exited, however it died) and the parent's channels disconnecting
/// (reported by the worker's loops). Then the worker's host is asked to stop, and the process kills itself
/// after a short grace whatever the host does.
/// </summary>
/// <remarks>
/// PR_SET_PDEATHSIG is not used: it fires when the <em>thread</em> that forked exits, which in .NET may be a
/// pool thread of the parent that ends long before the parent does.
/// </remarks>
internal sealed class ParentWatchdog
{
    /// <summary>How long the host has to stop once the parent is gone; then the process kills itself.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(300);

    private IHostApplicationLifetime? _lifetime;
    private int _triggered;
    private Timer? _killTimer;

    /// <summary>Starts watching the parent's pidfd on a dedicated thread (blocked in poll, costs nothing).</summary>
    /// <param name="parentPid">The parent's pid; 0 or invisible (another pid namespace) leaves only the channel signal.</param>
    public void Start(int parentPid)
    {
        if (parentPid <= 0)
        {
            return;
        }

        SafePidFdHandle? pidfd = SafePidFdHandle.Open(parentPid, out int errno);
        if (pidfd is null)
        {
            if (errno == Interop.Errno.ESRCH)
            {
                Trigger("the parent process is already gone");
            }

            return;
        }

        var thread = new Thread(() =>
        {
            using (pidfd)
            {
                if (pidfd.WaitForExit(-1))
                {
                    Trigger("the parent process exited");
                }
            }
        })
        {
            IsBackground = true,
            Name = "IpcChannel parent watchdog",
        };
        thread.Start();
    }

    /// <summary>Lets a trigger stop the worker's host gracefully first.</summary>
    public void Attach(IHostApplicationLifetime lifetime) => Volatile.Write(ref _lifetime, lifetime);

    /// <summary>The parent is gone: stop now, and die after <see cref="Grace"/> at the latest.</summary>
    public void Trigger(string reason)
    {
        if (Interlocked.Exchange(ref _triggered, 1) != 0)
        {
            return;
        }

        Console.Error.WriteLine($"IpcChannel worker {Environment.ProcessId}: {reason}; exiting.");
        IHostApplicationLifetime? lifetime = Volatile.Read(ref _lifetime);
        if (lifetime is null)
        {
            KillSelf();
            return;
        }

        _killTimer = new Timer(_ => KillSelf(), null, Grace, Timeout.InfiniteTimeSpan);
        lifetime.StopApplication();
    }

    private static void KillSelf()
    {
        using Process self = Process.GetCurrentProcess();
        self.Kill();

        // Still here: this is the init process of its own PID namespace (a sandboxed worker), which the kernel
        // protects from its own SIGKILL. End it directly.
        Interop.Exit(128 + Interop.SIGKILL);
    }
}
