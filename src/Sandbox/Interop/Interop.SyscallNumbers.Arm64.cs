namespace IpcChannel.Supervisor.Sandbox;

internal static partial class Interop
{
    internal static partial class SyscallNumbers
    {
        /// <summary>
        /// arm64 system call numbers (the asm-generic table, include/uapi/asm-generic/unistd.h, which arm64 uses).
        /// arm64 has no fork, vfork, uselib, iopl or ioperm system calls. Names are the C names.
        /// </summary>
        internal static class Arm64
        {
            internal const int umount2 = 39;
            internal const int mount = 40;
            internal const int pivot_root = 41;
            internal const int chroot = 51;
            internal const int quotactl = 60;
            internal const int acct = 89;
            internal const int personality = 92;
            internal const int unshare = 97;
            internal const int kexec_load = 104;
            internal const int init_module = 105;
            internal const int delete_module = 106;
            internal const int syslog = 116;
            internal const int ptrace = 117;
            internal const int reboot = 142;
            internal const int socket = 198;
            internal const int socketpair = 199;
            internal const int connect = 203;
            internal const int add_key = 217;
            internal const int request_key = 218;
            internal const int keyctl = 219;
            internal const int clone = 220;
            internal const int execve = 221;
            internal const int swapon = 224;
            internal const int swapoff = 225;
            internal const int perf_event_open = 241;
            internal const int name_to_handle_at = 264;
            internal const int open_by_handle_at = 265;
            internal const int setns = 268;
            internal const int process_vm_readv = 270;
            internal const int process_vm_writev = 271;
            internal const int kcmp = 272;
            internal const int finit_module = 273;
            internal const int seccomp = 277;
            internal const int bpf = 280;
            internal const int execveat = 281;
            internal const int userfaultfd = 282;
            internal const int kexec_file_load = 294;
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
