using System;

namespace IpcChannel.Transport.Linux;

/// <summary>
/// An eventfd that a blocking wait polls beside the descriptor it waits for, so that <c>Dispose</c> on another
/// thread can release the wait. Once signalled it stays readable for good (nothing ever reads it), so it releases
/// every wait in progress and every later one.
/// </summary>
/// <remarks>
/// A channel's own socket cannot serve for this: shutdown(2) acts on the socket, which another process may share
/// (a receiver that was sent in a message, or inherited), not on this process's descriptor.
/// </remarks>
internal sealed class WakeUpFd : IDisposable
{
    private WakeUpFd(SafeFdHandle handle) => Handle = handle;

    /// <summary>The eventfd; a waiter holds a reference on it (SafeHandle) while it polls it.</summary>
    public SafeFdHandle Handle { get; }

    /// <summary>Creates an unsignalled eventfd (non-blocking, close-on-exec).</summary>
    /// <returns>The wake-up.</returns>
    /// <exception cref="IpcException">The OS refused.</exception>
    public static WakeUpFd Create()
    {
        var handle = new SafeFdHandle();
        int fd = Interop.EventFd(0, Interop.EFD_CLOEXEC | Interop.EFD_NONBLOCK);
        if (fd < 0)
        {
            IpcException error = Errors.Last("eventfd");
            handle.Dispose();
            throw error;
        }

        handle.SetFd(fd);
        return new WakeUpFd(handle);
    }

    /// <summary>Makes the eventfd readable, which releases every poll or epoll_wait that includes it.</summary>
    public unsafe void Signal()
    {
        ulong one = 1;

        // The only possible failure is EAGAIN, when the counter is already near its maximum: then it is readable anyway.
        _ = Interop.Write(Handle, (byte*)&one, sizeof(ulong));
    }

    /// <summary>Closes the eventfd (deferred by the SafeHandle until no waiter holds it).</summary>
    public void Dispose() => Handle.Dispose();
}
