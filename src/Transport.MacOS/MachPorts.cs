using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;

namespace IpcChannel.Transport.MacOS;

/// <summary>Creates and adjusts Mach rights; every name is used only while its owner is referenced.</summary>
[SupportedOSPlatform("macos")]
internal static unsafe class MachPorts
{
    /// <summary>Allocates a receive right with the deepest queue a user port can have (1024 messages).</summary>
    /// <returns>The receive right.</returns>
    public static SafeMachPortHandle AllocateReceive()
    {
        var receive = new SafeMachPortHandle(MachPortRight.Receive);
        uint name;
        int result = Interop.MachPortAllocate(Interop.MachTaskSelf, Interop.MACH_PORT_RIGHT_RECEIVE, &name);
        if (result != Interop.KERN_SUCCESS)
        {
            receive.Dispose();
            throw Errors.ForKernReturn(result, "mach_port_allocate(RECEIVE)");
        }

        receive.SetName(name);
        try
        {
            Interop.mach_port_limits_t limits = new() { mpl_qlimit = Interop.MACH_PORT_QLIMIT_LARGE };
            Check(Interop.MachPortSetAttributes(Interop.MachTaskSelf, name, Interop.MACH_PORT_LIMITS_INFO, (int*)&limits, Interop.MACH_PORT_LIMITS_INFO_COUNT),
                "mach_port_set_attributes(MACH_PORT_LIMITS_INFO)");
        }
        catch
        {
            receive.Dispose();
            throw;
        }

        return receive;
    }

    /// <summary>Allocates an empty port set.</summary>
    /// <returns>The port set.</returns>
    public static SafeMachPortHandle AllocatePortSet()
    {
        var set = new SafeMachPortHandle(MachPortRight.PortSet);
        uint name;
        int result = Interop.MachPortAllocate(Interop.MachTaskSelf, Interop.MACH_PORT_RIGHT_PORT_SET, &name);
        if (result != Interop.KERN_SUCCESS)
        {
            set.Dispose();
            throw Errors.ForKernReturn(result, "mach_port_allocate(PORT_SET)");
        }

        set.SetName(name);
        return set;
    }

    /// <summary>Makes a new send right (one user reference) to the port of a receive right.</summary>
    /// <param name="receive">The receive right.</param>
    /// <returns>The send right; it has the same name as <paramref name="receive"/> and its own reference.</returns>
    public static SafeMachPortHandle MakeSend(SafeMachPortHandle receive)
    {
        bool referenced = false;
        receive.DangerousAddRef(ref referenced);
        try
        {
            uint name = receive.DangerousGetName();
            var send = new SafeMachPortHandle(MachPortRight.Send);
            int result = Interop.MachPortInsertRight(Interop.MachTaskSelf, name, name, Interop.MACH_MSG_TYPE_MAKE_SEND);
            if (result != Interop.KERN_SUCCESS)
            {
                send.Dispose();
                throw Errors.ForKernReturn(result, "mach_port_insert_right(MAKE_SEND)");
            }

            send.SetName(name);
            return send;
        }
        finally
        {
            if (referenced)
            {
                receive.DangerousRelease();
            }
        }
    }

    /// <summary>Adds a user reference to a send right: another owner of the same right.</summary>
    /// <param name="send">The send right.</param>
    /// <returns>The new owner.</returns>
    public static SafeMachPortHandle AddSendReference(SafeMachPortHandle send)
    {
        bool referenced = false;
        send.DangerousAddRef(ref referenced);
        try
        {
            uint name = send.DangerousGetName();
            if (name == Interop.MACH_PORT_DEAD)
            {
                return new SafeMachPortHandle(Interop.MACH_PORT_DEAD, MachPortRight.Send);
            }

            var copy = new SafeMachPortHandle(MachPortRight.Send);
            int result = Interop.MachPortModRefs(Interop.MachTaskSelf, name, Interop.MACH_PORT_RIGHT_SEND, 1);
            if (result == Interop.KERN_INVALID_RIGHT)
            {
                // The port died: the name is now a dead name, whose references count the same way.
                result = Interop.MachPortModRefs(Interop.MachTaskSelf, name, Interop.MACH_PORT_RIGHT_DEAD_NAME, 1);
            }

            if (result != Interop.KERN_SUCCESS)
            {
                copy.Dispose();
                throw Errors.ForKernReturn(result, "mach_port_mod_refs(SEND, +1)");
            }

            copy.SetName(name);
            return copy;
        }
        finally
        {
            if (referenced)
            {
                send.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Arms the no-senders notification of a receive right unless it is armed already, so that the last sender's
    /// disappearance reaches the queue as a message (message id 70), after every message sent before it.
    /// </summary>
    /// <param name="receive">The receive right.</param>
    public static void EnsureNoSendersRequested(SafeMachPortHandle receive)
    {
        bool referenced = false;
        receive.DangerousAddRef(ref referenced);
        try
        {
            uint name = receive.DangerousGetName();
            Interop.mach_port_status_t status;
            uint count = Interop.MACH_PORT_RECEIVE_STATUS_COUNT;
            Check(Interop.MachPortGetAttributes(Interop.MachTaskSelf, name, Interop.MACH_PORT_RECEIVE_STATUS, (int*)&status, &count),
                "mach_port_get_attributes(MACH_PORT_RECEIVE_STATUS)");
            if (status.mps_nsrequest == 0)
            {
                RequestNoSenders(name);
            }
        }
        finally
        {
            if (referenced)
            {
                receive.DangerousRelease();
            }
        }
    }

    /// <summary>Arms the no-senders notification of a receive right that has none armed.</summary>
    /// <param name="receive">The receive right.</param>
    public static void RequestNoSenders(SafeMachPortHandle receive)
    {
        bool referenced = false;
        receive.DangerousAddRef(ref referenced);
        try
        {
            RequestNoSenders(receive.DangerousGetName());
        }
        finally
        {
            if (referenced)
            {
                receive.DangerousRelease();
            }
        }
    }

    private static void RequestNoSenders(uint name)
    {
        uint previous = Interop.MACH_PORT_NULL;
        Check(Interop.MachPortRequestNotification(
                Interop.MachTaskSelf, name, Interop.MACH_NOTIFY_NO_SENDERS, 0, name, Interop.MACH_MSG_TYPE_MAKE_SEND_ONCE, &previous),
            "mach_port_request_notification(MACH_NOTIFY_NO_SENDERS)");
        if (previous != Interop.MACH_PORT_NULL)
        {
            // Not expected (we only arm unarmed ports); release the send-once right it handed back.
            _ = Interop.MachPortDeallocate(Interop.MachTaskSelf, previous);
        }
    }

    /// <summary>Makes a channel: a receive right with its no-senders notification armed, and one send right to it.</summary>
    /// <returns>The two rights.</returns>
    public static (SafeMachPortHandle Send, SafeMachPortHandle Receive) CreateChannel()
    {
        SafeMachPortHandle receive = AllocateReceive();
        try
        {
            // The send right must exist before the request: with no senders at all it would fire at once.
            SafeMachPortHandle send = MakeSend(receive);
            try
            {
                RequestNoSenders(receive);
            }
            catch
            {
                send.Dispose();
                throw;
            }

            return (send, receive);
        }
        catch
        {
            receive.Dispose();
            throw;
        }
    }

    /// <summary>Adds a receive right to a port set.</summary>
    /// <param name="receive">The member.</param>
    /// <param name="set">The set.</param>
    public static void InsertMember(SafeMachPortHandle receive, SafeMachPortHandle set) => WithNames(receive, set, static (member, portSet) =>
        Check(Interop.MachPortInsertMember(Interop.MachTaskSelf, member, portSet), "mach_port_insert_member"));

    /// <summary>Takes a receive right out of a port set.</summary>
    /// <param name="receive">The member.</param>
    /// <param name="set">The set.</param>
    public static void ExtractMember(SafeMachPortHandle receive, SafeMachPortHandle set) => WithNames(receive, set, static (member, portSet) =>
        Check(Interop.MachPortExtractMember(Interop.MachTaskSelf, member, portSet), "mach_port_extract_member"));

    private static void WithNames(SafeMachPortHandle first, SafeMachPortHandle second, Action<uint, uint> action)
    {
        bool firstReferenced = false;
        bool secondReferenced = false;
        first.DangerousAddRef(ref firstReferenced);
        try
        {
            second.DangerousAddRef(ref secondReferenced);
            action(first.DangerousGetName(), second.DangerousGetName());
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

    /// <summary>Gets a send right to this task's bootstrap port (launchd's name service).</summary>
    /// <returns>The send right.</returns>
    public static SafeMachPortHandle GetBootstrapPort()
    {
        var bootstrap = new SafeMachPortHandle(MachPortRight.Send);
        uint name;
        int result = Interop.TaskGetSpecialPort(Interop.MachTaskSelf, Interop.TASK_BOOTSTRAP_PORT, &name);
        if (result != Interop.KERN_SUCCESS || name == Interop.MACH_PORT_NULL)
        {
            bootstrap.Dispose();
            throw Errors.ForKernReturn(result, "task_get_special_port(TASK_BOOTSTRAP_PORT)");
        }

        bootstrap.SetName(name);
        return bootstrap;
    }

    /// <summary>Encodes a bootstrap service name as a NUL-terminated UTF-8 string that fits <c>name_t</c>.</summary>
    /// <param name="name">The service name.</param>
    /// <returns>The bytes, NUL included.</returns>
    public static byte[] EncodeServiceName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int length = Encoding.UTF8.GetByteCount(name);
        if (length == 0 || length >= Interop.BOOTSTRAP_MAX_NAME_LEN || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"An IPC server name must be 1 to {Interop.BOOTSTRAP_MAX_NAME_LEN - 1} bytes of UTF-8 without NUL; '{name}' is not.", nameof(name));
        }

        byte[] bytes = new byte[length + 1];
        Encoding.UTF8.GetBytes(name, bytes);
        return bytes;
    }

    /// <summary>Releases rights and memory that arrived in a message (or came back from a failed send) and nobody took.</summary>
    /// <param name="rights">Rights to release.</param>
    /// <param name="memory">Out-of-line ranges to deallocate.</param>
    /// <param name="portArrays">Out-of-line arrays of rights: every right, then the array.</param>
    public static void Release(List<MachReceivedRight> rights, List<MachReceivedMemory> memory, List<MachReceivedPortArray> portArrays)
    {
        uint task = Interop.MachTaskSelf;
        foreach (MachReceivedRight right in rights)
        {
            Release(task, right.Name, right.Disposition);
        }

        foreach (MachReceivedMemory range in memory)
        {
            _ = Interop.MachVmDeallocate(task, range.Address, range.Size);
        }

        foreach (MachReceivedPortArray array in portArrays)
        {
            uint* names = (uint*)array.Address;
            for (uint i = 0; i < array.Count; i++)
            {
                Release(task, names[i], array.Disposition);
            }

            _ = Interop.MachVmDeallocate(task, array.Address, (ulong)array.Count * sizeof(uint));
        }
    }

    private static void Release(uint task, uint name, byte disposition)
    {
        if (name is Interop.MACH_PORT_NULL or Interop.MACH_PORT_DEAD)
        {
            return;
        }

        // Release failures here mean the right is already gone; there is nothing more to free.
        _ = disposition == Interop.MACH_MSG_TYPE_PORT_RECEIVE
            ? Interop.MachPortModRefs(task, name, Interop.MACH_PORT_RIGHT_RECEIVE, -1)
            : Interop.MachPortDeallocate(task, name);
    }

    /// <summary>Throws for a failed Mach call.</summary>
    /// <param name="result">Its result.</param>
    /// <param name="operation">What it was.</param>
    public static void Check(int result, string operation)
    {
        if (result != Interop.KERN_SUCCESS)
        {
            throw Errors.ForKernReturn(result, operation);
        }
    }
}
