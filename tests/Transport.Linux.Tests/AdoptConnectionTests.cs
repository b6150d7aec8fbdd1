using System.IO;
using System.Net.Sockets;
using IpcChannel.Tests.Support;
using Microsoft.Win32.SafeHandles;
using Xunit;
using static IpcChannel.Tests.Support.Channels;

namespace IpcChannel.Transport.Linux.Tests;

/// <summary>
/// A socket connected to a server elsewhere (a sandboxed worker's first stage connects before it confines itself)
/// is taken over as a sender; anything but an AF_UNIX SOCK_SEQPACKET socket is refused before a byte is sent.
/// Synchronous and bounded: the accept waits 20 s at most.
/// </summary>
public class AdoptConnectionTests
{
    [Fact]
    public void AdoptConnection_OfASeqpacketSocketConnectedToAServer_SendsToIt_AndTakesTheHandle()
    {
        using TransportServer server = T.CreateServer(oneShot: true);
        using var raw = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        raw.Connect(new UnixDomainSocketEndPoint(server.Name));

        using TransportSender tx = T.AdoptConnection(raw.SafeHandle);
        Assert.True(raw.SafeHandle.IsClosed);
        tx.Send("adopted"u8);

        (TransportReceiver rx, _) = server.Accept(System.TimeSpan.FromSeconds(20)) ?? throw new Xunit.Sdk.XunitException("no client");
        using (rx)
        {
            Assert.Equal("adopted"u8.ToArray(), rx.ReceiveBytes());
        }
    }

    [Fact]
    public void AdoptConnection_OfAStreamSocket_IsRefused_AndTheHandleIsDisposed()
    {
        using var stream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        IpcException error = Assert.Throws<IpcException>(() => T.AdoptConnection(stream.SafeHandle));
        Assert.Contains("is not a SOCK_SEQPACKET socket", error.Message, System.StringComparison.Ordinal);
        Assert.True(stream.SafeHandle.IsClosed);
    }

    [Fact]
    public void AdoptConnection_OfAFile_IsRefused()
    {
        using SafeFileHandle file = File.OpenHandle("/dev/null");
        IpcException error = Assert.Throws<IpcException>(() => T.AdoptConnection(file));
        Assert.Contains("is not a SOCK_SEQPACKET socket", error.Message, System.StringComparison.Ordinal);
        Assert.True(file.IsClosed);
    }
}
