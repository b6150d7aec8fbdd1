using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace IpcChannel.Sandbox.Tests.Support;

/// <summary>
/// The things a worker probes, owned by the test process (the worker's "parent"): a directory and a secret file
/// outside the worker's allowed set, a TCP listener on 127.0.0.1, an abstract UNIX socket listener, and a block of
/// native memory with known bytes for process_vm_readv.
/// </summary>
public sealed unsafe class ProbeTargets : IDisposable
{
    private const int SecretLength = 32;
    private readonly TcpListener _tcp;
    private readonly Socket _abstract;
    private readonly byte* _memory;

    public ProbeTargets()
    {
        OutsideDirectory = Path.Combine(Path.GetTempPath(), $"ipcchannel-sandbox-outside-{Guid.NewGuid():N}");
        Directory.CreateDirectory(OutsideDirectory);
        SecretContent = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        SecretFile = Path.Combine(OutsideDirectory, "secret.txt");
        File.WriteAllText(SecretFile, SecretContent);
        File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        _tcp = new TcpListener(IPAddress.Loopback, 0);
        _tcp.Start();
        TcpPort = ((IPEndPoint)_tcp.LocalEndpoint).Port;

        AbstractSocketName = $"ipcchannel-sandbox-test-{Guid.NewGuid():N}";
        _abstract = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _abstract.Bind(new UnixDomainSocketEndPoint("\0" + AbstractSocketName));
        _abstract.Listen(16);

        _memory = (byte*)NativeMemory.Alloc(SecretLength);
        MemoryContent = RandomNumberGenerator.GetBytes(SecretLength);
        MemoryContent.CopyTo(new Span<byte>(_memory, SecretLength));
    }

    /// <summary>A directory the worker must not write.</summary>
    public string OutsideDirectory { get; }

    /// <summary>A root-only file the worker must not read.</summary>
    public string SecretFile { get; }

    /// <summary>The secret file's content.</summary>
    public string SecretContent { get; }

    /// <summary>A listening TCP port on 127.0.0.1.</summary>
    public int TcpPort { get; }

    /// <summary>The name of a listening abstract UNIX socket (without the leading NUL).</summary>
    public string AbstractSocketName { get; }

    /// <summary>Known bytes at <see cref="MemoryAddress"/> in this process.</summary>
    public byte[] MemoryContent { get; }

    /// <summary>The address of <see cref="MemoryContent"/> in this process.</summary>
    public nint MemoryAddress => (nint)_memory;

    /// <summary>This process's PID: the worker's parent.</summary>
    public static int Pid => Environment.ProcessId;

    /// <summary>Every probe, as the worker's <c>probes</c> scenario takes them.</summary>
    public string[] AllProbes() =>
    [
        $"write-outside:{OutsideDirectory}",
        "write-own",
        $"read-outside:{SecretFile}:{SecretContent}",
        $"tcp-connect:{TcpPort}",
        "tcp-bind",
        $"ptrace:{Pid}",
        $"vm-read:{Pid}:{MemoryAddress:X}:{Convert.ToHexString(MemoryContent)}",
        "exec",
        $"signal:{Pid}",
        $"abstract-connect:{AbstractSocketName}",
        "fd-passing",
    ];

    public void Dispose()
    {
        _tcp.Stop();
        _abstract.Dispose();
        NativeMemory.Free(_memory);
        Directory.Delete(OutsideDirectory, recursive: true);
    }
}
