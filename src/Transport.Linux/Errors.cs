using System;
using System.Runtime.InteropServices;

namespace IpcChannel.Transport.Linux;

/// <summary>Builds the exception for an errno in one place.</summary>
internal static class Errors
{
    /// <summary>Creates the exception for <paramref name="errno"/> while doing <paramref name="operation"/>.</summary>
    /// <param name="errno">The error number, read right after the failing call.</param>
    /// <param name="operation">What was being done, for the message ("sendmsg on a channel").</param>
    /// <returns>An <see cref="IpcDisconnectedException"/> for EPIPE/ECONNRESET, else an <see cref="IpcException"/>.</returns>
    public static IpcException ForErrno(int errno, string operation)
    {
        string text = Marshal.GetPInvokeErrorMessage(errno);
        string name = Name(errno);
        return errno switch
        {
            Interop.Errno.EPIPE or Interop.Errno.ECONNRESET or Interop.Errno.ENOTCONN =>
                new IpcDisconnectedException($"{operation} failed: the other side of the channel is closed ({name}: {text}).", errno),
            Interop.Errno.EMFILE =>
                new IpcException($"{operation} failed: this process has too many open file descriptors ({name}: {text}). Dispose unused channels or raise RLIMIT_NOFILE.", errno),
            Interop.Errno.ENFILE =>
                new IpcException($"{operation} failed: the system has too many open files ({name}: {text}).", errno),
            Interop.Errno.ETOOMANYREFS =>
                new IpcException($"{operation} failed: too many descriptors in flight for this process ({name}: {text}).", errno),
            _ => new IpcException($"{operation} failed ({name}: {text}).", errno),
        };
    }

    /// <summary>Throws the exception for the errno of the P/Invoke that just failed.</summary>
    /// <param name="operation">What was being done.</param>
    /// <returns>Never returns; typed so callers can write <c>throw Errors.Last(...)</c>.</returns>
    public static IpcException Last(string operation) => ForErrno(Marshal.GetLastPInvokeError(), operation);

    /// <summary>The symbolic name of the errno values this transport meets.</summary>
    /// <param name="errno">The error number.</param>
    /// <returns>For example "EPIPE", or "errno 77".</returns>
    public static string Name(int errno) => errno switch
    {
        Interop.Errno.ENOENT => "ENOENT",
        Interop.Errno.EINTR => "EINTR",
        Interop.Errno.EBADF => "EBADF",
        Interop.Errno.EAGAIN => "EAGAIN",
        Interop.Errno.ENOMEM => "ENOMEM",
        Interop.Errno.EACCES => "EACCES",
        Interop.Errno.EBUSY => "EBUSY",
        Interop.Errno.EINVAL => "EINVAL",
        Interop.Errno.ENFILE => "ENFILE",
        Interop.Errno.EMFILE => "EMFILE",
        Interop.Errno.EPIPE => "EPIPE",
        Interop.Errno.ENAMETOOLONG => "ENAMETOOLONG",
        Interop.Errno.ENOTSOCK => "ENOTSOCK",
        Interop.Errno.EMSGSIZE => "EMSGSIZE",
        Interop.Errno.EPROTOTYPE => "EPROTOTYPE",
        Interop.Errno.ENOTCONN => "ENOTCONN",
        Interop.Errno.ECONNRESET => "ECONNRESET",
        Interop.Errno.ENOBUFS => "ENOBUFS",
        Interop.Errno.ETOOMANYREFS => "ETOOMANYREFS",
        Interop.Errno.ECONNREFUSED => "ECONNREFUSED",
        _ => $"errno {errno}",
    };

    /// <summary>Throws <see cref="IpcSerializationException"/> for a frame that breaks the wire format.</summary>
    /// <param name="what">What was wrong.</param>
    /// <returns>Never returns.</returns>
    public static IpcSerializationException Malformed(string what) =>
        new($"Received a malformed message: {what}. The message was discarded and its handles closed.");

    /// <summary>Converts a timeout to whole milliseconds for poll/epoll_wait, rounding up.</summary>
    /// <param name="timeout">The timeout; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> gives -1.</param>
    /// <returns>Milliseconds, or -1 for infinite.</returns>
    public static int ToPollTimeout(TimeSpan timeout)
    {
        if (timeout == System.Threading.Timeout.InfiniteTimeSpan)
        {
            return -1;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        double ms = Math.Ceiling(timeout.TotalMilliseconds);
        return ms >= int.MaxValue ? -1 : (int)ms;
    }
}
