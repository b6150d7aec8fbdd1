namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    internal static partial class SyscallNumbers
    {
        /// <summary>
        /// x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl, 64-bit ABI; checked against
        /// asm/unistd_64.h). Names are the C names.
        /// </summary>
        internal static class X64
        {
            /// <summary><c>__X32_SYSCALL_BIT</c>: set in <c>nr</c> for x32-ABI system calls, which report the x86_64 arch.</summary>
            internal const uint X32_SYSCALL_BIT = 0x40000000;

            internal const int socket = 41;
            internal const int connect = 42;
            internal const int socketpair = 53;
            internal const int clone = 56;
            internal const int fork = 57;
            internal const int vfork = 58;
            internal const int execve = 59;
            internal const int ptrace = 101;
            internal const int syslog = 103;
            internal const int uselib = 134;
            internal const int personality = 135;
            internal const int pivot_root = 155;
            internal const int chroot = 161;
            internal const int acct = 163;
            internal const int mount = 165;
            internal const int umount2 = 166;
            internal const int swapon = 167;
            internal const int swapoff = 168;
            internal const int reboot = 169;
            internal const int iopl = 172;
            internal const int ioperm = 173;
            internal const int init_module = 175;
            internal const int delete_module = 176;
            internal const int quotactl = 179;
            internal const int kexec_load = 246;
            internal const int add_key = 248;
            internal const int request_key = 249;
            internal const int keyctl = 250;
            internal const int unshare = 272;
            internal const int perf_event_open = 298;
            internal const int name_to_handle_at = 303;
            internal const int open_by_handle_at = 304;
            internal const int setns = 308;
            internal const int process_vm_readv = 310;
            internal const int process_vm_writev = 311;
            internal const int kcmp = 312;
            internal const int finit_module = 313;
            internal const int seccomp = 317;
            internal const int kexec_file_load = 320;
            internal const int bpf = 321;
            internal const int execveat = 322;
            internal const int userfaultfd = 323;
            internal const int io_uring_setup = 425;
            internal const int io_uring_enter = 426;
            internal const int io_uring_register = 427;
            internal const int open_tree = 428;
            internal const int move_mount = 429;
            internal const int fsopen = 430;
            internal const int fsconfig = 431;
            internal const int fsmount = 432;
            internal const int fspick = 433;
            internal const int clone3 = 435;
            internal const int pidfd_getfd = 438;
            internal const int process_madvise = 440;
            internal const int mount_setattr = 442;
            internal const int open_tree_attr = 467;
        }
    }
}
