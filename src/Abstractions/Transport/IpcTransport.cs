using System;

namespace IpcChannel.Transport;

/// <summary>
/// What an OS transport offers: channel pairs, servers and their clients, shared-memory regions and
/// receiver sets. Transports move bytes and OS handles only; they know nothing of types or serialization.
/// </summary>
/// <remarks>
/// Every object a transport returns owns its OS resources and must be disposed; finalizers (through
/// <see cref="System.Runtime.InteropServices.SafeHandle"/>) close what callers forget. Transports throw the
/// <see cref="IpcException"/> family and never log.
/// </remarks>
internal abstract class IpcTransport
{
    /// <summary>A short name for diagnostics ("linux", "macos").</summary>
    public abstract string Name { get; }

    /// <summary>Makes a connected channel: one sender end and one receiver end.</summary>
    /// <returns>The two ends; each is disposed separately.</returns>
    /// <exception cref="IpcException">The OS refused (for example, out of file descriptors).</exception>
    public abstract (TransportSender Sender, TransportReceiver Receiver) CreateChannel();

    /// <summary>Connects to a server by the name it published.</summary>
    /// <param name="serverName">The server's <see cref="TransportServer.Name"/>.</param>
    /// <returns>A sender whose messages the server's accepted receiver gets.</returns>
    /// <exception cref="IpcException">No such server, refused, or permission denied (with the OS error).</exception>
    public abstract TransportSender Connect(string serverName);

    /// <summary>
    /// Takes over a socket already connected to a server (by another process, or by this one before it confined
    /// itself) as a sender, instead of connecting by name.
    /// </summary>
    /// <param name="socket">The connected socket; owned by this call, which disposes it (a duplicate is kept), also when it throws.</param>
    /// <returns>A sender whose messages the server's accepted receiver gets.</returns>
    /// <exception cref="IpcException">The descriptor is not a socket this transport's servers accept.</exception>
    /// <exception cref="PlatformNotSupportedException">The transport has no socket descriptors (macOS).</exception>
    public virtual TransportSender AdoptConnection(System.Runtime.InteropServices.SafeHandle socket) =>
        throw new PlatformNotSupportedException($"The {Name} transport cannot adopt a connected socket.");

    /// <summary>Creates a server that publishes a name and accepts clients.</summary>
    /// <param name="oneShot">
    /// <see langword="true"/> for a server that accepts exactly one client and then stops listening (its
    /// name disappears); <see langword="false"/> for one that accepts clients until disposed.
    /// </param>
    /// <returns>The listening server.</returns>
    public abstract TransportServer CreateServer(bool oneShot);

    /// <summary>Creates a sealed shared-memory region holding a copy of <paramref name="contents"/>.</summary>
    /// <param name="contents">The bytes of the region.</param>
    /// <returns>The region, mapped read-only.</returns>
    public abstract TransportSharedMemory CreateSharedMemory(ReadOnlySpan<byte> contents);

    /// <summary>Creates a sealed shared-memory region of <paramref name="length"/> bytes equal to <paramref name="value"/>.</summary>
    /// <param name="value">The byte every position holds.</param>
    /// <param name="length">The region's length (0 or more).</param>
    /// <returns>The region, mapped read-only.</returns>
    public abstract TransportSharedMemory CreateSharedMemory(byte value, int length);

    /// <summary>Creates an empty receiver set.</summary>
    /// <returns>The set.</returns>
    public abstract TransportReceiverSet CreateReceiverSet();
}
