using System;
using System.Runtime.InteropServices;
using System.Text;
using static IpcChannel.Supervisor.Sandbox.Interop.Sockets;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// The worker's connection to its supervisor, opened by stage 1 before it confines the process (before the private
/// root hides the server's socket, and before seccomp refuses <c>connect</c>), and inherited by the real worker across
/// the exec under the number in <see cref="StageProtocol.ConnectionVariable"/>.
/// </summary>
internal static class ServerConnection
{
    /// <summary>Connects an <c>AF_UNIX SOCK_SEQPACKET</c> socket to an IpcChannel server, close-on-exec.</summary>
    /// <param name="variable">The environment variable that holds the server's name (its socket path).</param>
    /// <returns>The connected socket.</returns>
    /// <exception cref="SandboxException">The variable is not set, or the connection failed.</exception>
    /// <remarks>The name is the path the Linux transport's server bound (<c>&lt;dir&gt;/s</c>), UTF-8, at most 107 bytes.</remarks>
    public static unsafe SafeFdHandle Connect(string variable)
    {
        string name = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new SandboxException($"Sandbox: {variable} names no server; stage 1 cannot connect the worker to its supervisor.");
        int length = Encoding.UTF8.GetByteCount(name);
        if (name.Contains('\0', StringComparison.Ordinal) || length > SunPathLength - 1)
        {
            throw new SandboxException($"Sandbox: {variable} ('{name}') is not a socket path of at most {SunPathLength - 1} bytes.");
        }

        byte* address = stackalloc byte[SockaddrUnSize];
        new Span<byte>(address, SockaddrUnSize).Clear();
        address[0] = AF_UNIX;
        Encoding.UTF8.GetBytes(name, new Span<byte>(address + 2, SunPathLength - 1));

        var socket = new SafeFdHandle();
        int fd = Interop.Socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            SandboxException error = Failed("socket(AF_UNIX, SOCK_SEQPACKET)", Marshal.GetLastPInvokeError());
            socket.Dispose();
            throw error;
        }

        socket.SetFd(fd);
        while (Interop.Connect(socket, address, (uint)(2 + length + 1)) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.Errno.EINTR)
            {
                socket.Dispose();
                throw Failed($"connect to the server '{name}' (from {variable})", errno);
            }
        }

        return socket;
    }

    /// <summary>Lets the connection survive the exec into the real worker, and no other descriptor with it.</summary>
    /// <param name="socket">The connection.</param>
    /// <exception cref="SandboxException">fcntl failed.</exception>
    public static void Inherit(SafeFdHandle socket)
    {
        if (Interop.Fcntl(socket, F_SETFD, 0) != 0)
        {
            throw Failed("fcntl(F_SETFD) on the connection", Marshal.GetLastPInvokeError());
        }
    }

    private static SandboxException Failed(string operation, int errno) => new(
        SandboxLayers.None,
        $"Sandbox: stage 1 could not connect the worker to its supervisor: {operation} failed ({Errors.Name(errno)}: {Marshal.GetPInvokeErrorMessage(errno)}).",
        errno);
}
