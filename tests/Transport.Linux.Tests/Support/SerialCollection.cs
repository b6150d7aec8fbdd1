using System;
using System.Buffers;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.TestChild;
using IpcChannel.Transport;
using IpcChannel.Transport.Linux;
using Xunit;

namespace IpcChannel.Tests.Support;

/// <summary>
/// Tests that count this process's descriptors. xUnit runs this collection after every parallel one, alone, so
/// no other test opens or closes descriptors meanwhile.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection : ICollectionFixture<RuntimeWarmup>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Serial: descriptor counting";
}

/// <summary>
/// Starts, once, everything that lazily opens long-lived descriptors (the transport's epoll engine, the runtime's
/// socket engine that reads child pipes), so the first leak check does not mistake them for leaks.
/// </summary>
public sealed class RuntimeWarmup : IAsyncLifetime
{
    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        (TransportSender tx, TransportReceiver rx) = LinuxTransport.Instance.CreateChannel();
        using (tx)
        using (rx)
        {
            var buffer = new ArrayBufferWriter<byte>();
            ValueTask<(ReceiveStatus, ReceivedHandles?)> pending = rx.ReceiveAsync(buffer, CancellationToken.None);
            tx.Send("warm"u8, default, default);
            await pending.WithTimeout();
        }

        // Loads IpcChannel.TestChild.dll into this process (tests share its StreamMessages) and runs a child
        // through start, pipe reads, SIGKILL and reaping, all of which open long-lived runtime descriptors once.
        using TransportServer server = LinuxTransport.Instance.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-stream-until-killed", [server.Name]);
        (TransportReceiver client, _) = await server.AcceptAsync(CancellationToken.None).WithTimeout();
        using (client)
        {
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Message, client.Receive(TimeSpan.FromSeconds(30), buffer, out ReceivedHandles? handles));
            Assert.Equal(StreamMessages.Describe(0).Size, buffer.WrittenCount);
            handles?.Dispose();
            child.Kill();
            await child.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <inheritdoc/>
    public Task DisposeAsync() => Task.CompletedTask;
}
