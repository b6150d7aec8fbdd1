using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Supervisor.TestHost;

/// <summary>A request to a <see cref="SandboxProbeWorker"/>: try something the sandbox may deny, or use channels.</summary>
/// <param name="Verb">status, write, connect, unix-connect, exec, alloc, native-alloc, fds-hold, channels, failfast.</param>
/// <param name="Text">A path (write, unix-connect).</param>
/// <param name="Number">A port (connect), MiB (alloc, native-alloc) or descriptors (fds-hold).</param>
/// <param name="Memory">Shared memory from the parent (channels).</param>
/// <param name="ReplyTo">A sender the parent created, handed over inside the message (channels).</param>
public sealed record SandboxProbe(string Verb, string Text = "", int Number = 0, IpcSharedMemory? Memory = null, IpcSender<string>? ReplyTo = null);

/// <summary>What a probe found, tried both on a thread-pool thread and on a thread started for it.</summary>
/// <param name="PoolAllowed">Whether the attempt succeeded on a thread-pool thread.</param>
/// <param name="PoolDetail">What happened there.</param>
/// <param name="ThreadAllowed">Whether it succeeded on a new thread.</param>
/// <param name="ThreadDetail">What happened there.</param>
/// <param name="Memory">Shared memory made by the worker (channels).</param>
public sealed record SandboxReport(bool PoolAllowed, string PoolDetail, bool ThreadAllowed, string ThreadDetail, IpcSharedMemory? Memory = null);

/// <summary>
/// A worker that tries, from inside its process, what the sandbox is meant to deny, and reports the outcome; the
/// Supervisor tests run it with the default sandbox and with the sandbox off (the twin that shows each can fail).
/// </summary>
public sealed partial class SandboxProbeWorker : IpcWorker<SandboxProbe, SandboxReport>
{
    private readonly List<byte[]> _kept = new();

    protected override async ValueTask<SandboxReport> OnRequestAsync(SandboxProbe request, CancellationToken cancellationToken)
    {
        switch (request.Verb)
        {
            case "channels":
                return await ChannelsAsync(request, cancellationToken);
            case "alloc":
                // Past a GC heap hard limit this throws OutOfMemoryException, on which the sandbox fails fast.
                for (int i = 0; i < request.Number; i++)
                {
                    byte[] block = new byte[1 << 20];
                    Array.Fill(block, (byte)i);
                    _kept.Add(block);
                }

                return new SandboxReport(true, $"allocated {request.Number} MiB", true, "");
            case "native-alloc":
                return NativeAlloc(request.Number);
            case "fds-hold":
                return HoldInFlight(request.Number);
            case "failfast":
                Environment.FailFast("the sandbox probe was given a poison input");
                return new SandboxReport(false, "unreachable", false, "");
            default:
                Func<(bool, string)> attempt = Attempt(request);
                (bool poolAllowed, string poolDetail) = await Task.Run(attempt, cancellationToken);
                (bool threadAllowed, string threadDetail) = OnNewThread(attempt);
                return new SandboxReport(poolAllowed, poolDetail, threadAllowed, threadDetail);
        }
    }

    private static Func<(bool, string)> Attempt(SandboxProbe request) => request.Verb switch
    {
        "status" => ThreadStatus,
        "write" => () => Try(() =>
        {
            string path = $"{request.Text}.{Environment.CurrentManagedThreadId}";
            File.WriteAllText(path, "written by a worker");
            return $"wrote {path}";
        }),
        "connect" => () => Try(() =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(new IPEndPoint(IPAddress.Loopback, request.Number));
            return $"connected to 127.0.0.1:{request.Number}";
        }),
        "unix-connect" => () => Try(() =>
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(request.Text));
            return $"connected to {request.Text}";
        }),
        "exec" => () => Try(() =>
        {
            using Process shell = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exit 0"]) { UseShellExecute = false })!;
            shell.WaitForExit();
            return $"/bin/sh ran, exit {shell.ExitCode}";
        }),
        _ => throw new NotSupportedException($"unknown verb {request.Verb}"),
    };

    /// <summary>Allowed = every thread of the process shows Seccomp: 2 and NoNewPrivs: 1.</summary>
    private static (bool, string) ThreadStatus()
    {
        var seccomp = new SortedSet<string>();
        var noNewPrivs = new SortedSet<string>();
        int threads = 0;
        foreach (string task in Directory.GetDirectories("/proc/self/task"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(Path.Combine(task, "status"));
            }
            catch (IOException)
            {
                continue; // the thread ended meanwhile
            }

            threads++;
            seccomp.Add(Field(lines, "Seccomp:"));
            noNewPrivs.Add(Field(lines, "NoNewPrivs:"));
        }

        bool all = seccomp.SetEquals(["2"]) && noNewPrivs.SetEquals(["1"]);
        return (all, $"threads={threads} Seccomp=[{string.Join(',', seccomp)}] NoNewPrivs=[{string.Join(',', noNewPrivs)}]");

        static string Field(string[] lines, string name) =>
            lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?[name.Length..].Trim() ?? "?";
    }

    private static (bool, string) Try(Func<string> action)
    {
        try
        {
            return (true, action());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException or System.ComponentModel.Win32Exception)
        {
            return (false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static (bool, string) OnNewThread(Func<(bool, string)> attempt)
    {
        (bool, string) result = default;
        var thread = new Thread(() => result = attempt()) { Name = "sandbox probe" };
        thread.Start();
        thread.Join();
        return result;
    }

    /// <summary>A sender and shared memory arrived inside the request (fd passing); answer on both ways.</summary>
    private static async ValueTask<SandboxReport> ChannelsAsync(SandboxProbe request, CancellationToken cancellationToken)
    {
        long sum = 0;
        foreach (byte b in request.Memory!.Span)
        {
            sum += b;
        }

        using IpcSender<string> replyTo = request.ReplyTo!;
        await replyTo.SendAsync($"sum {sum} from a worker", cancellationToken);
        request.Memory.Dispose();
        return new SandboxReport(true, $"sum {sum}", true, "", IpcSharedMemory.FromByte(7, 1 << 20));
    }
}
