using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;mach/port.h&gt;</c> and <c>&lt;mach/mach_port.h&gt;</c>.</summary>
internal static partial class Interop
{
    [LibraryImport(Libraries.System, EntryPoint = "mach_port_allocate")]
    internal static unsafe partial int MachPortAllocate(uint task, uint right, uint* name);

    [LibraryImport(Libraries.System, EntryPoint = "mach_port_deallocate")]
    internal static partial int MachPortDeallocate(uint task, uint name);

    [LibraryImport(Libraries.System, EntryPoint = "mach_port_mod_refs")]
    internal static partial int MachPortModRefs(uint task, uint name, uint right, int delta);

    [LibraryImport(Libraries.System, EntryPoint = "mach_port_insert_right")]
    internal static partial int MachPortInsertRight(uint task, uint name, uint poly, uint polyPoly);

    [LibraryImport(Libraries.System, EntryPoint = "mach_port_insert_member")]
    internal static partial int MachPortInsertMember(uint task, uint name, uint portSet);

    [LibraryImport(Libraries.System, EntryPoint = "mach_port_extract_member")]
    internal static partial int MachPortExtractMember(uint task, uint name, uint portSet);

    [LibraryImport(Libraries.System, EntryPoint = "mach_port_request_notification")]
    internal static unsafe partial int MachPortRequestNotification(
        uint task, uint name, int messageId, uint sync, uint notify, uint notifyPoly, uint* previous);

    [LibraryImport(Libraries.System, EntryPoint = "mach_port_set_attributes")]
    internal static unsafe partial int MachPortSetAttributes(uint task, uint name, int flavor, int* info, uint count);

    [LibraryImport(Libraries.System, EntryPoint = "mach_port_get_attributes")]
    internal static unsafe partial int MachPortGetAttributes(uint task, uint name, int flavor, int* info, uint* count);

    // mach_port_right_t.
    internal const uint MACH_PORT_RIGHT_SEND = 0;
    internal const uint MACH_PORT_RIGHT_RECEIVE = 1;
    internal const uint MACH_PORT_RIGHT_SEND_ONCE = 2;
    internal const uint MACH_PORT_RIGHT_PORT_SET = 3;
    internal const uint MACH_PORT_RIGHT_DEAD_NAME = 4;

    // mach_port_flavor_t.
    internal const int MACH_PORT_LIMITS_INFO = 1;
    internal const int MACH_PORT_RECEIVE_STATUS = 2;

    /// <summary><c>MACH_PORT_QLIMIT_LARGE</c> (= <c>MACH_PORT_QLIMIT_MAX</c>): the deepest queue a user port can have.</summary>
    internal const uint MACH_PORT_QLIMIT_LARGE = 1024;

    /// <summary><c>mach_port_limits_t</c>.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct mach_port_limits_t
    {
        public uint mpl_qlimit;
    }

    /// <summary><c>mach_port_status_t</c> (40 bytes), read with <see cref="MACH_PORT_RECEIVE_STATUS"/>.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct mach_port_status_t
    {
        public uint mps_pset;
        public uint mps_seqno;
        public uint mps_mscount;
        public uint mps_qlimit;
        public uint mps_msgcount;
        public uint mps_sorights;
        public int mps_srights;
        public int mps_pdrequest;
        public int mps_nsrequest;
        public uint mps_flags;
    }

    /// <summary><c>MACH_PORT_LIMITS_INFO_COUNT</c>, in <c>natural_t</c> units.</summary>
    internal const uint MACH_PORT_LIMITS_INFO_COUNT = 1;

    /// <summary><c>MACH_PORT_RECEIVE_STATUS_COUNT</c>, in <c>natural_t</c> units.</summary>
    internal const uint MACH_PORT_RECEIVE_STATUS_COUNT = 10;
}
