using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>Builds sandbox exceptions for an errno in one place.</summary>
internal static class Errors
{
    /// <summary>Creates the exception for the P/Invoke that just failed; call it first thing after the failure.</summary>
    /// <param name="layer">The layer being applied.</param>
    /// <param name="operation">What was being done ("landlock_restrict_self").</param>
    /// <returns>The exception to throw.</returns>
    public static SandboxException Last(SandboxLayers layer, string operation) => ForErrno(layer, operation, Marshal.GetLastPInvokeError());

    /// <summary>Creates the exception for an errno.</summary>
    /// <param name="layer">The layer being applied.</param>
    /// <param name="operation">What was being done.</param>
    /// <param name="errno">The errno, read right after the failing call.</param>
    /// <returns>The exception to throw.</returns>
    public static SandboxException ForErrno(SandboxLayers layer, string operation, int errno) =>
        new(layer, $"Sandbox layer {LayerNames.Describe(layer)}: {operation} failed ({Name(errno)}: {Marshal.GetPInvokeErrorMessage(errno)}).", errno);

    /// <summary>The symbolic name of an errno this library meets.</summary>
    /// <param name="errno">The error number.</param>
    /// <returns>For example "EPERM", or "errno 77".</returns>
    public static string Name(int errno) => errno switch
    {
        Interop.Errno.EPERM => "EPERM",
        Interop.Errno.ENOENT => "ENOENT",
        Interop.Errno.ESRCH => "ESRCH",
        Interop.Errno.EINTR => "EINTR",
        Interop.Errno.EBADF => "EBADF",
        Interop.Errno.EAGAIN => "EAGAIN",
        Interop.Errno.ENOMEM => "ENOMEM",
        Interop.Errno.EACCES => "EACCES",
        Interop.Errno.EFAULT => "EFAULT",
        Interop.Errno.EINVAL => "EINVAL",
        Interop.Errno.EROFS => "EROFS",
        Interop.Errno.ENOSYS => "ENOSYS",
        Interop.Errno.EOPNOTSUPP => "EOPNOTSUPP",
        _ => $"errno {errno}",
    };
}
