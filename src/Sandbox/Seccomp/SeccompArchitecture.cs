using System.Collections.Generic;
using System.Runtime.InteropServices;
using X64 = IpcChannel.Supervisor.Sandbox.Interop.SyscallNumbers.X64;
using Arm64 = IpcChannel.Supervisor.Sandbox.Interop.SyscallNumbers.Arm64;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// One architecture's view of the seccomp policy: the <c>AUDIT_ARCH_*</c> value the filter must see and the numbers
/// of the system calls it names. The policy itself (which calls, why) is the same for every architecture.
/// </summary>
internal sealed class SeccompArchitecture
{
    private SeccompArchitecture(
        string name,
        uint auditArch,
        bool hasX32Abi,
        int socket,
        int socketpair,
        int connect,
        int clone,
        int clone3,
        int seccomp,
        IReadOnlyList<(string Name, int Number)> denied,
        IReadOnlyList<(string Name, int Number)> processCreation)
    {
        Name = name;
        AuditArch = auditArch;
        HasX32Abi = hasX32Abi;
        Socket = socket;
        SocketPair = socketpair;
        Connect = connect;
        Clone = clone;
        Clone3 = clone3;
        SeccompSyscall = seccomp;
        Denied = denied;
        ProcessCreation = processCreation;
    }

    /// <summary>x86_64 (64-bit ABI only: i386 and x32 calls are foreign).</summary>
    public static SeccompArchitecture X86_64 { get; } = new(
        "x86_64",
        Interop.Audit.AUDIT_ARCH_X86_64,
        hasX32Abi: true,
        X64.socket,
        X64.socketpair,
        X64.connect,
        X64.clone,
        X64.clone3,
        X64.seccomp,
        [
            ("ptrace", X64.ptrace),
            ("process_vm_readv", X64.process_vm_readv),
            ("process_vm_writev", X64.process_vm_writev),
            ("pidfd_getfd", X64.pidfd_getfd),
            ("process_madvise", X64.process_madvise),
            ("kcmp", X64.kcmp),
            ("execve", X64.execve),
            ("execveat", X64.execveat),
            ("uselib", X64.uselib),
            ("mount", X64.mount),
            ("umount2", X64.umount2),
            ("pivot_root", X64.pivot_root),
            ("chroot", X64.chroot),
            ("open_tree", X64.open_tree),
            ("open_tree_attr", X64.open_tree_attr),
            ("move_mount", X64.move_mount),
            ("fsopen", X64.fsopen),
            ("fsconfig", X64.fsconfig),
            ("fsmount", X64.fsmount),
            ("fspick", X64.fspick),
            ("mount_setattr", X64.mount_setattr),
            ("kexec_load", X64.kexec_load),
            ("kexec_file_load", X64.kexec_file_load),
            ("init_module", X64.init_module),
            ("finit_module", X64.finit_module),
            ("delete_module", X64.delete_module),
            ("reboot", X64.reboot),
            ("swapon", X64.swapon),
            ("swapoff", X64.swapoff),
            ("syslog", X64.syslog),
            ("acct", X64.acct),
            ("quotactl", X64.quotactl),
            ("iopl", X64.iopl),
            ("ioperm", X64.ioperm),
            ("bpf", X64.bpf),
            ("perf_event_open", X64.perf_event_open),
            ("userfaultfd", X64.userfaultfd),
            ("io_uring_setup", X64.io_uring_setup),
            ("io_uring_enter", X64.io_uring_enter),
            ("io_uring_register", X64.io_uring_register),
            ("keyctl", X64.keyctl),
            ("add_key", X64.add_key),
            ("request_key", X64.request_key),
            ("setns", X64.setns),
            ("unshare", X64.unshare),
            ("name_to_handle_at", X64.name_to_handle_at),
            ("open_by_handle_at", X64.open_by_handle_at),
        ],
        [
            ("fork", X64.fork),
            ("vfork", X64.vfork),
        ]);

    /// <summary>arm64 (AArch64 only: AArch32 compat calls are foreign).</summary>
    public static SeccompArchitecture Aarch64 { get; } = new(
        "aarch64",
        Interop.Audit.AUDIT_ARCH_AARCH64,
        hasX32Abi: false,
        Arm64.socket,
        Arm64.socketpair,
        Arm64.connect,
        Arm64.clone,
        Arm64.clone3,
        Arm64.seccomp,
        [
            ("ptrace", Arm64.ptrace),
            ("process_vm_readv", Arm64.process_vm_readv),
            ("process_vm_writev", Arm64.process_vm_writev),
            ("pidfd_getfd", Arm64.pidfd_getfd),
            ("process_madvise", Arm64.process_madvise),
            ("kcmp", Arm64.kcmp),
            ("execve", Arm64.execve),
            ("execveat", Arm64.execveat),
            ("mount", Arm64.mount),
            ("umount2", Arm64.umount2),
            ("pivot_root", Arm64.pivot_root),
            ("chroot", Arm64.chroot),
            ("open_tree", Arm64.open_tree),
            ("open_tree_attr", Arm64.open_tree_attr),
            ("move_mount", Arm64.move_mount),
            ("fsopen", Arm64.fsopen),
            ("fsconfig", Arm64.fsconfig),
            ("fsmount", Arm64.fsmount),
            ("fspick", Arm64.fspick),
            ("mount_setattr", Arm64.mount_setattr),
            ("kexec_load", Arm64.kexec_load),
            ("kexec_file_load", Arm64.kexec_file_load),
            ("init_module", Arm64.init_module),
            ("finit_module", Arm64.finit_module),
            ("delete_module", Arm64.delete_module),
            ("reboot", Arm64.reboot),
            ("swapon", Arm64.swapon),
            ("swapoff", Arm64.swapoff),
            ("syslog", Arm64.syslog),
            ("acct", Arm64.acct),
            ("quotactl", Arm64.quotactl),
            ("bpf", Arm64.bpf),
            ("perf_event_open", Arm64.perf_event_open),
            ("userfaultfd", Arm64.userfaultfd),
            ("io_uring_setup", Arm64.io_uring_setup),
            ("io_uring_enter", Arm64.io_uring_enter),
            ("io_uring_register", Arm64.io_uring_register),
            ("keyctl", Arm64.keyctl),
            ("add_key", Arm64.add_key),
            ("request_key", Arm64.request_key),
            ("setns", Arm64.setns),
            ("unshare", Arm64.unshare),
            ("name_to_handle_at", Arm64.name_to_handle_at),
            ("open_by_handle_at", Arm64.open_by_handle_at),
        ],
        []); // arm64 has no fork or vfork: processes are made with clone only.

    /// <summary>The architecture of this process, or null when the filter has no table for it.</summary>
    public static SeccompArchitecture? Current => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => X86_64,
        Architecture.Arm64 => Aarch64,
        _ => null,
    };

    /// <summary>The name, for messages.</summary>
    public string Name { get; }

    /// <summary>The <c>AUDIT_ARCH_*</c> value of this architecture's native system calls.</summary>
    public uint AuditArch { get; }

    /// <summary>Whether the kernel also accepts x32-ABI calls under the same arch value (x86_64), told apart by <c>__X32_SYSCALL_BIT</c>.</summary>
    public bool HasX32Abi { get; }

    /// <summary><c>socket</c>: allowed for AF_UNIX only.</summary>
    public int Socket { get; }

    /// <summary><c>socketpair</c>: allowed for AF_UNIX only.</summary>
    public int SocketPair { get; }

    /// <summary><c>connect</c>: denied unless UNIX connects or internet sockets are allowed.</summary>
    public int Connect { get; }

    /// <summary>
    /// <c>clone</c>: allowed for threads only (<c>CLONE_THREAD</c> set, no namespace flag); without
    /// <c>CLONE_THREAD</c> (fork, vfork, posix_spawn) only when process creation is allowed.
    /// </summary>
    public int Clone { get; }

    /// <summary><c>clone3</c>: answered with ENOSYS, because its flags sit in memory a filter cannot read; libc then falls back to <c>clone</c>.</summary>
    public int Clone3 { get; }

    /// <summary>The number of <c>seccomp(2)</c> itself.</summary>
    public int SeccompSyscall { get; }

    /// <summary>The system calls that are always denied.</summary>
    public IReadOnlyList<(string Name, int Number)> Denied { get; }

    /// <summary>
    /// The system calls besides <c>clone</c> that only create processes (x86_64: <c>fork</c>, <c>vfork</c>; arm64
    /// has none), denied unless process creation is allowed.
    /// </summary>
    public IReadOnlyList<(string Name, int Number)> ProcessCreation { get; }
}
