using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace IpcChannel.Transport.MacOS;

/// <summary>Builds the exceptions for Mach and BSD error codes in one place.</summary>
internal static class Errors
{
    /// <summary>Creates the exception for a <c>kern_return_t</c> or <c>mach_msg_return_t</c>.</summary>
    /// <param name="code">The code the call returned.</param>
    /// <param name="operation">What was being done, for the message ("mach_msg send on an IPC channel").</param>
    /// <returns>
    /// An <see cref="IpcDisconnectedException"/> for a destination that is gone (<c>MACH_SEND_INVALID_DEST</c>), else an
    /// <see cref="IpcException"/> whose <see cref="IpcException.Errno"/> is the code.
    /// </returns>
    public static IpcException ForKernReturn(int code, string operation)
    {
        string name = Name(code);
        return code switch
        {
            Interop.MACH_SEND_INVALID_DEST =>
                new IpcDisconnectedException($"{operation} failed: the other side of the channel is closed ({name}).", code),
            Interop.KERN_NO_SPACE or Interop.KERN_RESOURCE_SHORTAGE =>
                new IpcException($"{operation} failed: this task has run out of Mach port names or kernel memory ({name}). Dispose unused channels.", code),
            _ => new IpcException($"{operation} failed ({name}, 0x{code:x}).", code),
        };
    }

    /// <summary>Creates the exception for the errno of the BSD call that just failed.</summary>
    /// <param name="operation">What was being done.</param>
    /// <returns>The exception.</returns>
    public static IpcException LastErrno(string operation)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IpcException($"{operation} failed (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}).", errno);
    }

    /// <summary>The symbolic name of the Mach codes this transport meets.</summary>
    /// <param name="code">The code.</param>
    /// <returns>For example "MACH_SEND_INVALID_DEST", or "kern_return 0x…".</returns>
    public static string Name(int code) => code switch
    {
        Interop.KERN_SUCCESS => "KERN_SUCCESS",
        Interop.KERN_INVALID_ADDRESS => "KERN_INVALID_ADDRESS",
        Interop.KERN_PROTECTION_FAILURE => "KERN_PROTECTION_FAILURE",
        Interop.KERN_NO_SPACE => "KERN_NO_SPACE",
        Interop.KERN_INVALID_ARGUMENT => "KERN_INVALID_ARGUMENT",
        Interop.KERN_FAILURE => "KERN_FAILURE",
        Interop.KERN_RESOURCE_SHORTAGE => "KERN_RESOURCE_SHORTAGE",
        Interop.KERN_NOT_RECEIVER => "KERN_NOT_RECEIVER",
        Interop.KERN_NO_ACCESS => "KERN_NO_ACCESS",
        Interop.KERN_ALREADY_IN_SET => "KERN_ALREADY_IN_SET",
        Interop.KERN_NOT_IN_SET => "KERN_NOT_IN_SET",
        Interop.KERN_NAME_EXISTS => "KERN_NAME_EXISTS",
        Interop.KERN_INVALID_NAME => "KERN_INVALID_NAME",
        Interop.KERN_INVALID_TASK => "KERN_INVALID_TASK",
        Interop.KERN_INVALID_RIGHT => "KERN_INVALID_RIGHT",
        Interop.KERN_INVALID_VALUE => "KERN_INVALID_VALUE",
        Interop.KERN_UREFS_OVERFLOW => "KERN_UREFS_OVERFLOW",
        Interop.KERN_INVALID_CAPABILITY => "KERN_INVALID_CAPABILITY",
        Interop.KERN_RIGHT_EXISTS => "KERN_RIGHT_EXISTS",
        Interop.KERN_INVALID_OBJECT => "KERN_INVALID_OBJECT",
        Interop.MACH_SEND_INVALID_DATA => "MACH_SEND_INVALID_DATA",
        Interop.MACH_SEND_INVALID_DEST => "MACH_SEND_INVALID_DEST",
        Interop.MACH_SEND_TIMED_OUT => "MACH_SEND_TIMED_OUT",
        Interop.MACH_SEND_INTERRUPTED => "MACH_SEND_INTERRUPTED",
        Interop.MACH_SEND_MSG_TOO_SMALL => "MACH_SEND_MSG_TOO_SMALL",
        Interop.MACH_SEND_INVALID_RIGHT => "MACH_SEND_INVALID_RIGHT",
        Interop.MACH_SEND_INVALID_MEMORY => "MACH_SEND_INVALID_MEMORY",
        Interop.MACH_SEND_NO_BUFFER => "MACH_SEND_NO_BUFFER",
        Interop.MACH_SEND_TOO_LARGE => "MACH_SEND_TOO_LARGE",
        Interop.MACH_SEND_INVALID_TYPE => "MACH_SEND_INVALID_TYPE",
        Interop.MACH_SEND_INVALID_HEADER => "MACH_SEND_INVALID_HEADER",
        Interop.MACH_RCV_INVALID_NAME => "MACH_RCV_INVALID_NAME",
        Interop.MACH_RCV_TIMED_OUT => "MACH_RCV_TIMED_OUT",
        Interop.MACH_RCV_TOO_LARGE => "MACH_RCV_TOO_LARGE",
        Interop.MACH_RCV_INTERRUPTED => "MACH_RCV_INTERRUPTED",
        Interop.MACH_RCV_PORT_CHANGED => "MACH_RCV_PORT_CHANGED",
        Interop.MACH_RCV_INVALID_DATA => "MACH_RCV_INVALID_DATA",
        Interop.MACH_RCV_PORT_DIED => "MACH_RCV_PORT_DIED",
        Interop.MACH_RCV_HEADER_ERROR => "MACH_RCV_HEADER_ERROR",
        Interop.MACH_RCV_BODY_ERROR => "MACH_RCV_BODY_ERROR",
        Interop.MACH_RCV_INVALID_TRAILER => "MACH_RCV_INVALID_TRAILER",
        Interop.BOOTSTRAP_NOT_PRIVILEGED => "BOOTSTRAP_NOT_PRIVILEGED",
        Interop.BOOTSTRAP_NAME_IN_USE => "BOOTSTRAP_NAME_IN_USE",
        Interop.BOOTSTRAP_UNKNOWN_SERVICE => "BOOTSTRAP_UNKNOWN_SERVICE",
        Interop.BOOTSTRAP_SERVICE_ACTIVE => "BOOTSTRAP_SERVICE_ACTIVE",
        _ => $"kern_return 0x{code:x}",
    };

    /// <summary>The exception for a received message that breaks the wire format.</summary>
    /// <param name="what">What was wrong.</param>
    /// <returns>The exception (the caller throws it).</returns>
    public static IpcSerializationException Malformed(string what) =>
        new($"Received a malformed message: {what}. The message was discarded and its rights and memory released.");

    /// <summary>Converts a timeout to a <c>mach_msg_timeout_t</c> in whole milliseconds, rounding up.</summary>
    /// <param name="timeout">The timeout; <see cref="Timeout.InfiniteTimeSpan"/> means no timeout.</param>
    /// <returns>Milliseconds, or -1 for infinite.</returns>
    public static long ToMilliseconds(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return -1;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        double ms = Math.Ceiling(timeout.TotalMilliseconds);
        return ms >= uint.MaxValue ? -1 : (long)ms;
    }
}
