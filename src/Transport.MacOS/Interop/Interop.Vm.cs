using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;mach/mach_vm.h&gt;</c>, <c>&lt;mach/vm_prot.h&gt;</c>, <c>&lt;mach/vm_inherit.h&gt;</c>,
/// <c>&lt;mach/vm_statistics.h&gt;</c> and <c>&lt;mach/memory_object_types.h&gt;</c>.</summary>
internal static partial class Interop
{
    [LibraryImport(Libraries.System, EntryPoint = "mach_vm_allocate")]
    internal static unsafe partial int MachVmAllocate(uint task, ulong* address, ulong size, int flags);

    [LibraryImport(Libraries.System, EntryPoint = "mach_vm_deallocate")]
    internal static partial int MachVmDeallocate(uint task, ulong address, ulong size);

    [LibraryImport(Libraries.System, EntryPoint = "mach_vm_map")]
    internal static unsafe partial int MachVmMap(
        uint task, ulong* address, ulong size, ulong mask, int flags, uint memoryObject, ulong offset,
        int copy, int currentProtection, int maximumProtection, uint inheritance);

    [LibraryImport(Libraries.System, EntryPoint = "mach_make_memory_entry_64")]
    internal static unsafe partial int MachMakeMemoryEntry64(
        uint task, ulong* size, ulong offset, int permission, uint* objectHandle, uint parentEntry);

    internal const int VM_PROT_NONE = 0x0;
    internal const int VM_PROT_READ = 0x1;
    internal const int VM_PROT_WRITE = 0x2;

    internal const uint VM_INHERIT_SHARE = 0;
    internal const uint VM_INHERIT_COPY = 1;
    internal const uint VM_INHERIT_NONE = 2;

    internal const int VM_FLAGS_FIXED = 0x0000;
    internal const int VM_FLAGS_ANYWHERE = 0x0001;

    /// <summary><c>MAP_MEM_NAMED_CREATE</c>: make a new, zero-filled memory object rather than name an existing range.</summary>
    internal const int MAP_MEM_NAMED_CREATE = 0x020000;

    /// <summary><c>MAP_MEM_VM_COPY</c>: the entry is a copy of the range.</summary>
    internal const int MAP_MEM_VM_COPY = 0x200000;

    /// <summary><c>MAP_MEM_VM_SHARE</c>: the entry shares the range's memory.</summary>
    internal const int MAP_MEM_VM_SHARE = 0x400000;
}
