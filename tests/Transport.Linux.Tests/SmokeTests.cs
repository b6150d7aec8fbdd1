using System;
using System.Buffers;
using System.Text;
using System.Threading.Tasks;
using IpcChannel.Tests.Support;
using IpcChannel.Transport;
using IpcChannel.Transport.Linux;
using Xunit;

namespace IpcChannel.Transport.Linux.Tests;

public class SmokeTests
{
    private static IpcTransport T => LinuxTransport.Instance;

    [Fact]
    public void Simple_SevenBytes_RoundTrip()
    {
        (TransportSender tx, TransportReceiver rx) = T.CreateChannel();
        using (tx)
        using (rx)
        {
            tx.Send("1234567"u8, default, default);
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Message, rx.TryReceive(buffer, out ReceivedHandles? handles));
            Assert.Null(handles);
            Assert.Equal("1234567", Encoding.ASCII.GetString(buffer.WrittenSpan));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task CrossProcessSpawn_ChildConnectsByName_MessageArrives()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using TestChildProcess child = TestChildProcess.Start("transport-connect-send", [server.Name, "test message"]);
        (TransportReceiver rx, PeerCredentials peer) = await server.AcceptAsync(default).WithTimeout();
        using (rx)
        {
            Assert.Equal(child.Pid, peer.Pid);
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Equal(ReceiveStatus.Message, rx.Receive(TimeSpan.FromSeconds(30), buffer, out ReceivedHandles? handles));
            Assert.Null(handles);
            Assert.Equal("test message", Encoding.UTF8.GetString(buffer.WrittenSpan));
            await child.AssertSuccessAsync();
            Assert.Equal(ReceiveStatus.Closed, rx.Receive(TimeSpan.FromSeconds(30), buffer, out _));
        }
    }
}
