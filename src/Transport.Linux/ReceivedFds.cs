using System;
using System.Diagnostics;

namespace IpcChannel.Transport.Linux;

/// <summary>
/// Descriptors that arrived in SCM_RIGHTS control messages and that nothing owns yet, kept as raw numbers so a
/// message allocates no wrapper for a descriptor that only lives while it is received (a side channel, a body
/// memfd). <see cref="Take"/> hands one over to a new owner; <see cref="Dispose"/> closes every one not taken.
/// </summary>
/// <remarks>
/// Storage starts in a caller's (stack) span and moves to an array only when a message carries more descriptors
/// than it holds (a side channel). Only the first <see cref="Count"/> entries are ever read, so uninitialised
/// (<c>SkipLocalsInit</c>) storage is fine. A taken entry is set to -1.
/// </remarks>
internal unsafe ref struct ReceivedFds
{
    private Span<int> _fds;
    private int _count;

    /// <summary>Starts empty over <paramref name="storage"/>.</summary>
    /// <param name="storage">Room for the usual number of descriptors; need not be initialised.</param>
    public ReceivedFds(Span<int> storage)
    {
        _fds = storage;
        _count = 0;
    }

    /// <summary>The number of descriptors received (taken ones included).</summary>
    public readonly int Count => _count;

    /// <summary>Descriptor <paramref name="index"/>, still owned here (-1 once taken).</summary>
    /// <param name="index">Its position in the message.</param>
    public readonly int this[int index] => _fds.Slice(0, _count)[index];

    /// <summary>Takes ownership, out of every SCM_RIGHTS control message of <paramref name="msg"/>, of the descriptors it carries.</summary>
    /// <param name="msg">A message just filled by recvmsg.</param>
    /// <returns>How many descriptors it carried.</returns>
    /// <remarks>If room for them cannot be made (out of memory), they are closed before the exception propagates.</remarks>
    public int AddFrom(Interop.MsgHdr* msg)
    {
        int carried = CountIn(msg);
        if (carried == 0)
        {
            return 0;
        }

        if (_count + carried > _fds.Length)
        {
            try
            {
                Grow(_count + carried);
            }
            catch
            {
                ForEachIn(msg, close: true);
                throw;
            }
        }

        ForEachIn(msg, close: false);
        return carried;
    }

    /// <summary>Removes the last descriptor and hands it to the caller, who now must close it.</summary>
    /// <returns>The descriptor.</returns>
    public int TakeLast()
    {
        Debug.Assert(_count > 0 && _fds[_count - 1] >= 0);
        _count--;
        return _fds[_count];
    }

    /// <summary>Hands descriptor <paramref name="index"/> to the caller, who now owns it.</summary>
    /// <param name="index">Its position in the message.</param>
    /// <returns>The descriptor.</returns>
    public int Take(int index)
    {
        Span<int> fds = _fds.Slice(0, _count);
        int fd = fds[index];
        Debug.Assert(fd >= 0, "a received descriptor was taken twice");
        fds[index] = -1;
        return fd;
    }

    /// <summary>Wraps descriptor <paramref name="index"/> in a handle that now owns it.</summary>
    /// <param name="index">Its position in the message.</param>
    /// <returns>The handle.</returns>
    public SafeFdHandle TakeOwned(int index)
    {
        var handle = new SafeFdHandle(); // allocated first: if this throws, the descriptor is still ours to close
        handle.SetFd(Take(index));
        return handle;
    }

    /// <summary>Closes every descriptor not taken.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _count; i++)
        {
            if (_fds[i] >= 0)
            {
                Interop.Close(_fds[i]);
                _fds[i] = -1;
            }
        }

        _count = 0;
    }

    private static int CountIn(Interop.MsgHdr* msg)
    {
        int total = 0;
        for (byte* position = First(msg); position is not null; position = Next(msg, position))
        {
            total += DataCount((Interop.CMsgHdr*)position);
        }

        return total;
    }

    /// <summary>Appends (or, when <paramref name="close"/>, closes) every descriptor of <paramref name="msg"/>.</summary>
    private void ForEachIn(Interop.MsgHdr* msg, bool close)
    {
        for (byte* position = First(msg); position is not null; position = Next(msg, position))
        {
            int count = DataCount((Interop.CMsgHdr*)position);
            int* data = (int*)(position + Interop.CMsgAlign(sizeof(Interop.CMsgHdr)));
            for (int i = 0; i < count; i++)
            {
                if (close)
                {
                    Interop.Close(data[i]);
                }
                else
                {
                    _fds[_count++] = data[i];
                }
            }
        }
    }

    private void Grow(int needed)
    {
        // Only a message with a side channel gets here: it carries more than one datagram's descriptors.
        int[] larger = new int[Math.Max(needed, _fds.Length * 2)];
        _fds.Slice(0, _count).CopyTo(larger);
        _fds = larger;
    }

    /// <summary>The descriptors in an SCM_RIGHTS control message, 0 for any other.</summary>
    private static int DataCount(Interop.CMsgHdr* cmsg) =>
        cmsg->cmsg_level == Interop.SOL_SOCKET && cmsg->cmsg_type == Interop.SCM_RIGHTS
            ? ((int)cmsg->cmsg_len - Interop.CMsgAlign(sizeof(Interop.CMsgHdr))) / sizeof(int)
            : 0;

    /// <summary><c>CMSG_FIRSTHDR</c>, also checking that the header's length stays inside the buffer.</summary>
    private static byte* First(Interop.MsgHdr* msg) => Valid(msg, (byte*)msg->msg_control);

    /// <summary><c>CMSG_NXTHDR</c>, with the same check.</summary>
    private static byte* Next(Interop.MsgHdr* msg, byte* position) =>
        Valid(msg, position + Interop.CMsgAlign((int)((Interop.CMsgHdr*)position)->cmsg_len));

    private static byte* Valid(Interop.MsgHdr* msg, byte* position)
    {
        if (msg->msg_control is null)
        {
            return null;
        }

        byte* end = (byte*)msg->msg_control + msg->msg_controllen;
        if (position + sizeof(Interop.CMsgHdr) > end)
        {
            return null;
        }

        var cmsg = (Interop.CMsgHdr*)position;
        return cmsg->cmsg_len < (nuint)sizeof(Interop.CMsgHdr) || position + cmsg->cmsg_len > end ? null : position;
    }
}
