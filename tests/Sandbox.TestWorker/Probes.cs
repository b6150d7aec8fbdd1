using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

namespace IpcChannel.Sandbox.TestWorker;

/// <summary>
/// Things a sandbox must forbid (and the IPC it must allow). Each returns <c>allowed</c> when the thing worked, or
/// <c>denied &lt;why&gt;</c>; run from several threads by <see cref="Scenarios"/>.
/// </summary>
internal static unsafe class Probes
{
    public static readonly Dictionary<string, Func<string[], string>> All = new(StringComparer.Ordinal)
    {
        ["write-outside"] = args => WriteFile(Path.Combine(args[0], $"probe-{Environment.CurrentManagedThreadId}-{Guid.NewGuid():N}")),
        ["write-own"] = _ => WriteFile(Path.Combine(Path.GetTempPath(), $"probe-{Environment.CurrentManagedThreadId}-{Guid.NewGuid():N}")),
        ["read-outside"] = args => ReadFile(args[0], args[1]),
        ["tcp-connect"] = args => TcpConnect(int.Parse(args[0], CultureInfo.InvariantCulture)),
        ["tcp-bind"] = _ => TcpBind(),
        ["ptrace"] = args => Ptrace(int.Parse(args[0], CultureInfo.InvariantCulture)),
        ["vm-read"] = args => VmRead(int.Parse(args[0], CultureInfo.InvariantCulture), nint.Parse(args[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture), args[2]),
        ["exec"] = _ => Exec(),
        ["signal"] = args => Signal(int.Parse(args[0], CultureInfo.InvariantCulture)),
        ["abstract-connect"] = args => AbstractConnect(args[0]),
        ["fd-passing"] = _ => FdPassing(),
        ["unix-connect"] = args => UnixConnect(args[0]),
        ["unix-sendto"] = args => UnixSendTo(args[0]),
        ["diagnostics"] = args => Diagnostics(args[0]),
        ["see-path"] = args => File.Exists(args[0]) || Directory.Exists(args[0]) ? "allowed" : "denied (not visible)",
    };

    /// <summary><c>DOTNET_IPC_V1\0</c>: the magic that starts every message of the .NET diagnostics IPC protocol.</summary>
    private static ReadOnlySpan<byte> DiagnosticsMagic => "DOTNET_IPC_V1\0"u8;

    /// <summary>socket(AF_UNIX, SOCK_STREAM) + connect to a pathname socket, raw.</summary>
    private static string UnixConnect(string path) => WithUnixSocket(Native.SOCK_STREAM, (fd, address, length) =>
        Native.Connect(fd, address, length) == 0 ? "allowed" : $"denied connect errno={Native.Errno()}", path);

    /// <summary>socket(AF_UNIX, SOCK_DGRAM) + sendto a pathname datagram socket without connecting, raw.</summary>
    private static string UnixSendTo(string path) => WithUnixSocket(Native.SOCK_DGRAM, (fd, address, length) =>
    {
        byte payload = 42;
        return Native.SendTo(fd, &payload, 1, 0, address, length) == 1 ? "allowed" : $"denied sendto errno={Native.Errno()}";
    }, path);

    /// <summary>
    /// Connects to a .NET process's diagnostics socket and asks for its process information (command set 4, command
    /// 0): what an attacker does first, before reading its environment or attaching a profiler. Allowed only when the
    /// process answered.
    /// </summary>
    private static string Diagnostics(string path) => WithUnixSocket(Native.SOCK_STREAM, (fd, address, length) =>
    {
        if (Native.Connect(fd, address, length) != 0)
        {
            return $"denied connect errno={Native.Errno()}";
        }

        // Header: magic, uint16 size (header only: 20), uint8 command set, uint8 command id, uint16 reserved.
        byte[] request = new byte[20];
        DiagnosticsMagic.CopyTo(request);
        request[14] = 20;
        request[16] = 0x04;
        byte[] response = new byte[14];
        fixed (byte* sent = request)
        fixed (byte* received = response)
        {
            if (Native.SendTo(fd, sent, (nuint)request.Length, 0, null, 0) != request.Length)
            {
                return $"denied send errno={Native.Errno()}";
            }

            int total = 0;
            while (total < response.Length)
            {
                nint read = Native.Read(fd, received + total, (nuint)(response.Length - total));
                if (read <= 0)
                {
                    return $"denied (the process did not answer) errno={Native.Errno()}";
                }

                total += (int)read;
            }
        }

        return response.AsSpan().SequenceEqual(DiagnosticsMagic) ? "allowed" : "denied (not a diagnostics answer)";
    }, path);

    private delegate string SocketUse(int fd, void* address, uint length);

    private static string WithUnixSocket(int type, SocketUse use, string path)
    {
        int fd = Native.Socket(Native.AF_UNIX, type | Native.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            return $"denied socket errno={Native.Errno()}";
        }

        try
        {
            byte[] address = new byte[2 + Encoding.UTF8.GetByteCount(path) + 1];
            address[0] = Native.AF_UNIX; // sun_family (little-endian short), then the NUL-terminated path.
            Encoding.UTF8.GetBytes(path, address.AsSpan(2));
            fixed (byte* bytes = address)
            {
                return use(fd, bytes, (uint)address.Length);
            }
        }
        finally
        {
            Native.Close(fd);
        }
    }

    private static string WriteFile(string path)
    {
        try
        {
            File.WriteAllText(path, "written from inside the worker");
            File.Delete(path);
            return "allowed";
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return Denied(e);
        }
    }

    private static string ReadFile(string path, string expected)
    {
        try
        {
            return File.ReadAllText(path) == expected ? "allowed" : "denied (read other content)";
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return Denied(e);
        }
    }

    /// <summary>socket(AF_INET) + connect to 127.0.0.1:port, raw, so that the errno tells which layer refused.</summary>
    private static string TcpConnect(int port) => WithInetSocket(fd =>
    {
        Native.SockaddrIn address = Native.Loopback(port);
        return Native.Connect(fd, &address, (uint)sizeof(Native.SockaddrIn)) == 0 ? "allowed" : $"denied connect errno={Native.Errno()}";
    });

    /// <summary>socket(AF_INET) + bind 127.0.0.1:0 + listen, raw.</summary>
    private static string TcpBind() => WithInetSocket(fd =>
    {
        Native.SockaddrIn address = Native.Loopback(0);
        if (Native.Bind(fd, &address, (uint)sizeof(Native.SockaddrIn)) != 0)
        {
            return $"denied bind errno={Native.Errno()}";
        }

        return Native.Listen(fd, 1) == 0 ? "allowed" : $"denied listen errno={Native.Errno()}";
    });

    private static string WithInetSocket(Func<int, string> use)
    {
        int fd = Native.Socket(Native.AF_INET, Native.SOCK_STREAM | Native.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            return $"denied socket errno={Native.Errno()}";
        }

        try
        {
            return use(fd);
        }
        finally
        {
            Native.Close(fd);
        }
    }

    private static string Ptrace(int pid)
    {
        // Seize (does not stop the tracee), interrupt and wait for the stop, then detach: the sandbox-off run leaves
        // the test process untraced, so that the next thread's probe can seize it again.
        if (Native.Ptrace(Native.PTRACE_SEIZE, pid, 0, 0) != 0)
        {
            return $"denied errno={Native.Errno()}";
        }

        int status;
        if (Native.Ptrace(Native.PTRACE_INTERRUPT, pid, 0, 0) != 0 || Native.WaitPid(pid, &status, Native.__WALL) != pid)
        {
            return $"denied (seized but could not stop) errno={Native.Errno()}";
        }

        return Native.Ptrace(Native.PTRACE_DETACH, pid, 0, 0) == 0 ? "allowed" : $"denied (could not detach) errno={Native.Errno()}";
    }

    private static string VmRead(int pid, nint address, string expectedHex)
    {
        byte[] expected = Convert.FromHexString(expectedHex);
        byte[] buffer = new byte[expected.Length];
        fixed (byte* local = buffer)
        {
            var localIov = new Native.IoVec { Base = local, Length = (nuint)buffer.Length };
            var remoteIov = new Native.IoVec { Base = (void*)address, Length = (nuint)buffer.Length };
            nint read = Native.ProcessVmReadv(pid, &localIov, 1, &remoteIov, 1, 0);
            if (read < 0)
            {
                return $"denied errno={Native.Errno()}";
            }
        }

        return buffer.AsSpan().SequenceEqual(expected) ? "allowed" : "denied (read other bytes)";
    }

    private static string Exec()
    {
        try
        {
            using Process? shell = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exit 7"]) { UseShellExecute = false });
            if (shell is null)
            {
                return "denied (no process)";
            }

            if (!shell.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                shell.Kill();
                return "denied (shell hung)";
            }

            return shell.ExitCode == 7 ? "allowed" : $"denied (exit {shell.ExitCode})";
        }
        catch (Win32Exception e)
        {
            return $"denied errno={e.NativeErrorCode} {e.Message}";
        }
    }

    private static string Signal(int pid) =>
        Native.Kill(pid, 0) == 0 ? "allowed" : $"denied errno={Native.Errno()}";

    /// <summary>socket(AF_UNIX) + connect to an abstract name, raw.</summary>
    private static string AbstractConnect(string name)
    {
        int fd = Native.Socket(Native.AF_UNIX, Native.SOCK_STREAM | Native.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            return $"denied socket errno={Native.Errno()}";
        }

        try
        {
            byte[] address = new byte[2 + 1 + Encoding.ASCII.GetByteCount(name)];
            address[0] = Native.AF_UNIX; // sun_family (little-endian short), then a NUL: an abstract name.
            Encoding.ASCII.GetBytes(name, address.AsSpan(3));
            fixed (byte* bytes = address)
            {
                return Native.Connect(fd, bytes, (uint)address.Length) == 0 ? "allowed" : $"denied connect errno={Native.Errno()}";
            }
        }
        finally
        {
            Native.Close(fd);
        }
    }

    /// <summary>A memfd with known bytes travels over an AF_UNIX socketpair with SCM_RIGHTS and is mapped on arrival.</summary>
    private static string FdPassing()
    {
        int* pair = stackalloc int[2];
        if (Native.SocketPair(Native.AF_UNIX, Native.SOCK_SEQPACKET | Native.SOCK_CLOEXEC, 0, pair) != 0)
        {
            return $"denied socketpair errno={Native.Errno()}";
        }

        int memfd = -1;
        int received = -1;
        nint map = -1;
        const int Size = 4096;
        try
        {
            memfd = Native.MemfdCreate("sandbox-probe", Native.MFD_CLOEXEC);
            if (memfd < 0)
            {
                return $"denied memfd_create errno={Native.Errno()}";
            }

            byte[] content = Encoding.ASCII.GetBytes("shared from inside the sandbox".PadRight(Size, '.'));
            fixed (byte* bytes = content)
            {
                if (Native.Write(memfd, bytes, Size) != Size)
                {
                    return $"denied write errno={Native.Errno()}";
                }
            }

            int cmsgSpace = sizeof(Native.CMsgHdr) + 8;
            byte* control = stackalloc byte[cmsgSpace];
            byte payload = 1;
            var iov = new Native.IoVec { Base = &payload, Length = 1 };
            var message = new Native.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)cmsgSpace };
            var header = (Native.CMsgHdr*)control;
            header->Length = (nuint)(sizeof(Native.CMsgHdr) + sizeof(int));
            header->Level = Native.SOL_SOCKET;
            header->Type = Native.SCM_RIGHTS;
            *(int*)(control + sizeof(Native.CMsgHdr)) = memfd;
            if (Native.SendMsg(pair[0], &message, 0) != 1)
            {
                return $"denied sendmsg errno={Native.Errno()}";
            }

            new Span<byte>(control, cmsgSpace).Clear();
            message = new Native.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)cmsgSpace };
            if (Native.RecvMsg(pair[1], &message, Native.MSG_CMSG_CLOEXEC) != 1 || header->Type != Native.SCM_RIGHTS)
            {
                return $"denied recvmsg errno={Native.Errno()}";
            }

            received = *(int*)(control + sizeof(Native.CMsgHdr));
            map = Native.MMap(0, Size, Native.PROT_READ, Native.MAP_SHARED, received, 0);
            if (map == -1)
            {
                return $"denied mmap errno={Native.Errno()}";
            }

            return new ReadOnlySpan<byte>((void*)map, Size).SequenceEqual(content) ? "allowed" : "denied (mapping differs)";
        }
        finally
        {
            if (map != -1)
            {
                Native.MUnmap(map, Size);
            }

            foreach (int fd in new[] { pair[0], pair[1], memfd, received })
            {
                if (fd >= 0)
                {
                    Native.Close(fd);
                }
            }
        }
    }

    private static string Denied(Exception e) => $"denied {e.GetType().Name}: {e.Message}";
}
