using System;
using IpcChannel.Transport;
using IpcChannel.Transport.Linux;
using IpcChannel.Transport.MacOS;

namespace IpcChannel;

/// <summary>Chooses the transport for the running OS, once.</summary>
internal static class IpcTransports
{
    private static readonly Lazy<IpcTransport> s_current = new(Select);

    /// <summary>The transport of this process.</summary>
    /// <exception cref="PlatformNotSupportedException">The OS has no IpcChannel transport.</exception>
    public static IpcTransport Current => s_current.Value;

    private static IpcTransport Select()
    {
        if (OperatingSystem.IsLinux())
        {
            return LinuxTransport.Instance;
        }

        if (OperatingSystem.IsMacOS())
        {
            return MacTransport.Instance;
        }

        throw new PlatformNotSupportedException(
            $"IpcChannel has no transport for {System.Runtime.InteropServices.RuntimeInformation.OSDescription}: it supports Linux (AF_UNIX sockets) and macOS (Mach ports).");
    }
}
