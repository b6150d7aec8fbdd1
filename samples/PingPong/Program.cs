using System;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using IpcChannel;
using PingPong;

// One program, two roles: run without the variable it is the parent; the child it starts finds the
// server's name in IPC_PINGPONG_SERVER and connects back.
const string ServerVariable = "IPC_PINGPONG_SERVER";
string? serverName = Environment.GetEnvironmentVariable(ServerVariable);
return serverName is null ? RunParent() : RunChild(serverName);

int RunParent()
{
    using var server = new IpcOneShotServer<ChildMessage>();
    Console.WriteLine($"parent {Environment.ProcessId}: server '{server.Name}', starting the child");
    using Process child = StartChild(server.Name);

    (IpcReceiver<ChildMessage> fromChild, ChildMessage hello) = server.Accept(TimeSpan.FromSeconds(30));
    using (fromChild)
    using (IpcSender<ParentMessage> toChild = hello.Inbox ?? throw new InvalidOperationException("the child sent no inbox"))
    {
        Console.WriteLine($"parent: child says '{hello.Text}'");

        for (int n = 1; n <= 3; n++)
        {
            toChild.Send(new ParentMessage("ping", n));
            ChildMessage pong = fromChild.Receive();
            Console.WriteLine($"parent: ping {n} -> {pong.Kind} {pong.Number}");
        }

        // A brand-new channel travels inside a message; the child answers on it.
        (IpcSender<string> sideTx, IpcReceiver<string> sideRx) = Ipc.Channel<string>();
        using (sideRx)
        {
            toChild.Send(new ParentMessage("side-channel", 0, Side: sideTx));
            Console.WriteLine($"parent: on the side channel: '{sideRx.Receive()}'");
        }

        // 4 MiB of shared memory: the child maps the same pages.
        var blob = IpcSharedMemory.FromByte(7, 4 << 20);
        toChild.Send(new ParentMessage("shared-memory", 0, Blob: blob));
        ChildMessage sum = fromChild.Receive();
        Console.WriteLine($"parent: the child summed the shared memory: {sum.Number} (expected {7L * (4 << 20)})");

        toChild.Send(new ParentMessage("bye", 0));
        try
        {
            fromChild.Receive();
        }
        catch (IpcDisconnectedException)
        {
            Console.WriteLine("parent: the child closed its channel");
        }
    }

    if (!child.WaitForExit(30_000))
    {
        child.Kill();
        Console.Error.WriteLine("parent: the child did not exit");
        return 1;
    }

    Console.WriteLine($"parent: child exited with {child.ExitCode}");
    return child.ExitCode;
}

int RunChild(string name)
{
    using IpcSender<ChildMessage> toParent = IpcSender<ChildMessage>.Connect(name);
    (IpcSender<ParentMessage> inbox, IpcReceiver<ParentMessage> fromParent) = Ipc.Channel<ParentMessage>();
    using (fromParent)
    {
        toParent.Send(new ChildMessage("hello", 0, $"hello from child {Environment.ProcessId}", inbox));
        while (true)
        {
            ParentMessage message = fromParent.Receive();
            switch (message.Kind)
            {
                case "ping":
                    toParent.Send(new ChildMessage("pong", message.Number, "pong"));
                    break;
                case "side-channel":
                    using (IpcSender<string> side = message.Side!)
                    {
                        side.Send($"hi from child {Environment.ProcessId}");
                    }

                    break;
                case "shared-memory":
                    using (IpcSharedMemory blob = message.Blob!)
                    {
                        long total = 0;
                        foreach (byte b in blob.Span)
                        {
                            total += b;
                        }

                        toParent.Send(new ChildMessage("sum", total, "sum"));
                    }

                    break;
                case "bye":
                    return 0;
            }
        }
    }
}

static Process StartChild(string serverName)
{
    // Relaunch this program: through its apphost, or as `dotnet PingPong.dll`.
    string processPath = Environment.ProcessPath ?? throw new InvalidOperationException("unknown process path");
    var start = new ProcessStartInfo { FileName = processPath, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
    {
        start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
    }

    start.Environment[ServerVariable] = serverName;
    return Process.Start(start) ?? throw new InvalidOperationException("could not start the child");
}
