using System;
using System.Diagnostics;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Transport.MacOS;

/// <summary>
/// A server: a receive right published with launchd under a private random name. A client looks the name up, makes a
/// channel of its own, and sends the channel's receive right in a hello message; the server takes the client's
/// credentials from the kernel's audit trailer of that hello, applies the filter, and hands the receive right out
/// as the client's receiver. Every client therefore has its own queue, exactly like an accepted socket on Linux.
/// </summary>
/// <remarks>
/// A one-shot server withdraws its name and destroys its port as soon as it has accepted one client: hellos still
/// queued are destroyed with it (their clients' sends then fail as disconnected) and later connects find no server,
/// the behaviour of a Linux one-shot server. A malformed hello is discarded and the server goes on accepting.
/// </remarks>
[SupportedOSPlatform("macos")]
internal sealed class MacServer : TransportServer
{
    /// <summary>The prefix of every server name.</summary>
    public const string NamePrefix = "org.ipcchannel.";

    private const int MaxRegisterAttempts = 16;

    private readonly bool _oneShot;
    private readonly string _name;
    private readonly object _gate = new();
    private SafeMachPortHandle? _port;
    private SafeMachPortHandle? _registration;
    private MachDispatcher.Registration? _readiness;
    private bool _accepted;

    private MacServer(bool oneShot, string name, SafeMachPortHandle port, SafeMachPortHandle registration)
    {
        _oneShot = oneShot;
        _name = name;
        _port = port;
        _registration = registration;
    }

    /// <inheritdoc/>
    public override string Name => _name;

    /// <summary>Creates the port and publishes it under a fresh random name.</summary>
    /// <param name="oneShot">Whether the server accepts a single client.</param>
    /// <returns>The server.</returns>
    public static unsafe MacServer Create(bool oneShot)
    {
        SafeMachPortHandle port = MachPorts.AllocateReceive();
        SafeMachPortHandle? registration = null;
        try
        {
            registration = MachPorts.MakeSend(port);
            using SafeMachPortHandle bootstrap = MachPorts.GetBootstrapPort();
            for (int attempt = 0; ; attempt++)
            {
                string name = NamePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                byte[] encoded = MachPorts.EncodeServiceName(name);
                int result = WithNames(bootstrap, registration, (bootstrapName, right) =>
                {
                    fixed (byte* n = encoded)
                    {
                        return Interop.BootstrapRegister2(bootstrapName, n, right, 0);
                    }
                });
                if (result == Interop.BOOTSTRAP_SUCCESS)
                {
                    return new MacServer(oneShot, name, port, registration);
                }

                if (result != Interop.BOOTSTRAP_NAME_IN_USE || attempt >= MaxRegisterAttempts)
                {
                    throw Errors.ForKernReturn(result, $"bootstrap_register2('{name}')");
                }
            }
        }
        catch
        {
            registration?.Dispose();
            port.Dispose();
            throw;
        }
    }

    /// <summary>Connects to the server published as <paramref name="name"/>: makes a channel and sends its receive right in a hello.</summary>
    /// <param name="name">The server's name.</param>
    /// <returns>The sender of the new channel.</returns>
    public static unsafe SafeMachPortHandle Connect(string name)
    {
        byte[] encoded = MachPorts.EncodeServiceName(name);
        using SafeMachPortHandle server = LookUp(name, encoded);
        (SafeMachPortHandle send, SafeMachPortHandle receive) = MachPorts.CreateChannel();
        using var receiver = new MacReceiver(receive, noSendersArmed: true);
        try
        {
            int result = MachOutbound.Send(server, MachWire.HelloMessageId, default, [receiver], default, dontWait: false);
            if (result != Interop.MACH_MSG_SUCCESS)
            {
                throw result == Interop.MACH_SEND_INVALID_DEST
                    ? new IpcException($"The IPC server '{name}' is gone (MACH_SEND_INVALID_DEST): it was disposed, or was a one-shot server that already accepted its client.", result)
                    : Errors.ForKernReturn(result, $"sending the hello to the IPC server '{name}'");
            }
        }
        catch
        {
            send.Dispose();
            throw;
        }

        return send;
    }

    private static unsafe SafeMachPortHandle LookUp(string name, byte[] encoded)
    {
        using SafeMachPortHandle bootstrap = MachPorts.GetBootstrapPort();
        var server = new SafeMachPortHandle(MachPortRight.Send);
        uint port = Interop.MACH_PORT_NULL;
        int result = WithNames(bootstrap, bootstrap, (bootstrapName, _) =>
        {
            fixed (byte* n = encoded)
            {
                uint found;
                int r = Interop.BootstrapLookUp(bootstrapName, n, &found);
                port = found;
                return r;
            }
        });
        if (result != Interop.BOOTSTRAP_SUCCESS || port is Interop.MACH_PORT_NULL or Interop.MACH_PORT_DEAD)
        {
            server.Dispose();
            if (result == Interop.BOOTSTRAP_SUCCESS && port == Interop.MACH_PORT_DEAD)
            {
                throw new IpcException($"The IPC server '{name}' is gone: its port is dead.", Interop.MACH_SEND_INVALID_DEST);
            }

            throw result == Interop.BOOTSTRAP_UNKNOWN_SERVICE || result == Interop.BOOTSTRAP_SUCCESS
                ? new IpcException($"There is no IPC server named '{name}' (BOOTSTRAP_UNKNOWN_SERVICE): it never existed, was disposed, or was a one-shot server that already accepted its client.", result)
                : Errors.ForKernReturn(result, $"bootstrap_look_up('{name}')");
        }

        server.SetName(port);
        return server;
    }

    /// <inheritdoc/>
    public override (TransportReceiver Receiver, PeerCredentials Peer)? Accept(TimeSpan timeout)
    {
        long milliseconds = Errors.ToMilliseconds(timeout);
        long deadline = milliseconds < 0 ? long.MaxValue : Stopwatch.GetTimestamp() + (milliseconds * Stopwatch.Frequency / 1000);
        while (true)
        {
            long wait = milliseconds;
            if (milliseconds > 0)
            {
                long remaining = deadline - Stopwatch.GetTimestamp();
                wait = remaining <= 0 ? 0 : Math.Max(1, remaining * 1000 / Stopwatch.Frequency);
            }

            if (TryAcceptOne(wait, out (TransportReceiver, PeerCredentials) client))
            {
                return client;
            }

            if (wait == 0 || (milliseconds > 0 && Stopwatch.GetTimestamp() >= deadline))
            {
                return null;
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask<(TransportReceiver Receiver, PeerCredentials Peer)> AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryAcceptOne(0, out (TransportReceiver, PeerCredentials) client))
            {
                return client;
            }

            MachDispatcher.Registration readiness;
            lock (_gate)
            {
                readiness = _readiness ??= MachDispatcher.Instance.Register(PortOrThrow());
            }

            await readiness.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Receives hellos until one passes the filter or the wait ends; false when none did in time.</summary>
    private bool TryAcceptOne(long milliseconds, out (TransportReceiver, PeerCredentials) client)
    {
        client = default;
        for (long wait = milliseconds; ; wait = 0)
        {
            SafeMachPortHandle port;
            lock (_gate)
            {
                port = PortOrThrow();
            }

            MachInboundResult hello;
            TransportReceiver receiver;
            try
            {
                hello = MachInbound.Receive(port, wait, MachMessageKind.Hello, static _ => 0, null);
                if (hello.Status != ReceiveStatus.Message || hello.Handles is null)
                {
                    // Nobody within the wait. (Only launchd holds a send right to the server port, so Closed is not expected.)
                    return false;
                }

                using (ReceivedHandles handles = hello.Handles)
                {
                    receiver = handles.TakeChannel(0).ToReceiver();
                }
            }
            catch (IpcSerializationException)
            {
                // A misbehaving client (its message is already released) never stops the server.
                continue;
            }

            bool admitted;
            try
            {
                admitted = Filter is not { } filter || filter(hello.Sender);
            }
            catch
            {
                receiver.Dispose();
                throw;
            }

            if (!admitted)
            {
                // Refused before a byte of its data was read; destroying the port makes its sends fail.
                receiver.Dispose();
                continue;
            }

            if (_oneShot)
            {
                lock (_gate)
                {
                    _accepted = true;
                    Close();
                }
            }

            client = (receiver, hello.Sender);
            return true;
        }
    }

    private SafeMachPortHandle PortOrThrow()
    {
        if (_port is not null)
        {
            return _port;
        }

        if (_accepted)
        {
            throw new InvalidOperationException("This one-shot server has already accepted its client.");
        }

        throw new ObjectDisposedException(nameof(MacServer));
    }

    private unsafe void Close()
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        if (_port is null)
        {
            return;
        }

        _readiness?.Dispose();
        _readiness = null;
        try
        {
            // Withdraw the name (registering the null port), best effort: launchd also forgets a name whose port died.
            using SafeMachPortHandle bootstrap = MachPorts.GetBootstrapPort();
            byte[] encoded = MachPorts.EncodeServiceName(_name);
            _ = WithNames(bootstrap, bootstrap, (bootstrapName, _) =>
            {
                fixed (byte* n = encoded)
                {
                    return Interop.BootstrapRegister2(bootstrapName, n, Interop.MACH_PORT_NULL, 0);
                }
            });
        }
        catch (IpcException)
        {
            // Without a bootstrap port there is no name to withdraw.
        }

        _registration?.Dispose();
        _registration = null;
        _port.Dispose();
        _port = null;
    }

    private static int WithNames(SafeMachPortHandle first, SafeMachPortHandle second, Func<uint, uint, int> call)
    {
        bool firstReferenced = false;
        bool secondReferenced = false;
        first.DangerousAddRef(ref firstReferenced);
        try
        {
            second.DangerousAddRef(ref secondReferenced);
            return call(first.DangerousGetName(), second.DangerousGetName());
        }
        finally
        {
            if (secondReferenced)
            {
                second.DangerousRelease();
            }

            if (firstReferenced)
            {
                first.DangerousRelease();
            }
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        lock (_gate)
        {
            Close();
        }
    }
}
