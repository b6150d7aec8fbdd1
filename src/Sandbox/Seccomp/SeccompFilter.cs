using System;
using System.Runtime.InteropServices;
using static IpcChannel.Supervisor.Sandbox.Interop.Filter;
using static IpcChannel.Supervisor.Sandbox.Interop.Seccomp;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// The worker's seccomp-bpf policy and its installation on every thread (<c>SECCOMP_FILTER_FLAG_TSYNC</c>).
/// </summary>
/// <remarks>
/// The program, for architecture A:
/// <code>
///   ld arch;  jeq A.AUDIT_ARCH ? next : foreign          (i386/x32/AArch32 entry points: killed)
///   ld nr;    [x86_64] jge __X32_SYSCALL_BIT ? foreign
///   jeq each always-denied nr ? deny
///   [x86_64] jeq fork, vfork ? deny                      (unless process creation is allowed)
///   jeq connect ? deny                                   (unless UNIX connects or internet sockets are allowed)
///   jeq socket, socketpair ? socket_check
///   jeq clone ? clone_check;  jeq clone3 ? enosys
///   ret ALLOW
/// socket_check: ld args[0]; jeq AF_UNIX ? unix_type : deny   (internet sockets allowed: : allow)
/// unix_type:    ld args[1]; and SOCK_TYPE_MASK; jeq SOCK_STREAM ? allow; jeq SOCK_SEQPACKET ? allow : deny
/// clone_check:  ld args[0]; jset CLONE_NEW* ? deny : next
///               jset CLONE_THREAD ? allow : deny         (unless process creation is allowed: allow)
/// enosys: ret ERRNO(ENOSYS);  allow: ret ALLOW;  deny: ret (configured);  foreign: ret KILL_PROCESS
/// </code>
/// Classic BPF jumps only forward, so every shared return sits after the code that jumps to it.
/// Only the low 32 bits of an argument are read: <c>socket</c>'s domain and type and <c>clone</c>'s namespace flags
/// are 32-bit values, and the kernel ignores the high half of an <c>int</c> argument.
/// <para>
/// A sandboxed worker is connected to its supervisor before it is confined and never connects afterwards, so
/// <c>connect</c> is denied: whatever socket it can name, it cannot reach. The filter cannot read the address (it is
/// in memory), nor the socket's family (a descriptor), so it is all or nothing. AF_UNIX sockets are limited to
/// <c>SOCK_STREAM</c> and <c>SOCK_SEQPACKET</c>: a datagram socket could reach a pathname socket without
/// <c>connect</c>, by <c>sendto</c>/<c>sendmsg</c> with an address; connection-oriented sockets ignore or refuse one.
/// </para>
/// <para>
/// Process creation is denied because <c>RLIMIT_NPROC</c> does not hold for real root (a root supervisor's workers
/// are mapped to it): without this a fork bomb would not stop. A worker never needs a child process (execve is
/// denied anyway); threads are <c>clone</c> with <c>CLONE_THREAD</c>, which the kernel only accepts together with
/// <c>CLONE_SIGHAND</c> and <c>CLONE_VM</c>, so such a call can only add a thread to the same process.
/// </para>
/// </remarks>
internal static class SeccompFilter
{
    /// <summary><c>AF_UNIX</c>.</summary>
    private const uint AF_UNIX = 1;

    /// <summary><c>SOCK_STREAM</c>.</summary>
    private const uint SOCK_STREAM = 1;

    /// <summary><c>SOCK_SEQPACKET</c>.</summary>
    private const uint SOCK_SEQPACKET = 5;

    /// <summary>
    /// <c>CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET</c>
    /// (linux/sched.h). <c>CLONE_NEWTIME</c> (0x80) is left out: in <c>clone</c>'s flags that bit belongs to the
    /// exit signal, and the time namespace can only be made through <c>unshare</c>/<c>clone3</c>, both refused.
    /// </summary>
    internal const uint CloneNamespaceFlags = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

    /// <summary><c>CLONE_THREAD</c> (linux/sched.h): the new task joins the caller's thread group (a thread, not a process).</summary>
    internal const uint CloneThread = 0x00010000;

    /// <summary>The seccomp return value for a denied call.</summary>
    /// <param name="action">The configured action.</param>
    /// <returns>The <c>SECCOMP_RET_*</c> value.</returns>
    internal static uint DenyReturn(SeccompDenyAction action) => action switch
    {
        SeccompDenyAction.Errno => SECCOMP_RET_ERRNO | (Interop.Errno.EPERM & SECCOMP_RET_DATA),
        SeccompDenyAction.KillProcess => SECCOMP_RET_KILL_PROCESS,
        SeccompDenyAction.Log => SECCOMP_RET_LOG,
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Unknown seccomp deny action."),
    };

    /// <summary>Builds the filter program for an architecture.</summary>
    /// <param name="arch">The architecture whose numbers to use.</param>
    /// <param name="denyAction">What a denied call does.</param>
    /// <param name="allowInternetSockets">Whether sockets of families other than AF_UNIX are allowed.</param>
    /// <param name="allowProcessCreation">
    /// Whether new processes may be created (<c>fork</c>, <c>vfork</c>, <c>clone</c> without <c>CLONE_THREAD</c>);
    /// threads are always allowed.
    /// </param>
    /// <param name="allowUnixConnect">Whether <c>connect</c> is allowed (it also is when <paramref name="allowInternetSockets"/> is).</param>
    /// <returns>The program.</returns>
    public static sock_filter[] Build(SeccompArchitecture arch, SeccompDenyAction denyAction, bool allowInternetSockets, bool allowProcessCreation, bool allowUnixConnect = false)
    {
        const string Foreign = "foreign";
        const string Deny = "deny";
        const string Allow = "allow";
        const string SocketCheck = "socket_check";
        const string UnixType = "unix_type";
        const string CloneCheck = "clone_check";
        const string Enosys = "enosys";

        var bpf = new BpfProgramBuilder();
        bpf.LoadWord(OffsetArch);
        bpf.JumpIfEqual(arch.AuditArch, null, Foreign);
        bpf.LoadWord(OffsetNr);
        if (arch.HasX32Abi)
        {
            bpf.JumpIfGreaterOrEqual(Interop.SyscallNumbers.X64.X32_SYSCALL_BIT, Foreign, null);
        }

        foreach ((_, int number) in arch.Denied)
        {
            bpf.JumpIfEqual((uint)number, Deny, null);
        }

        if (!allowProcessCreation)
        {
            foreach ((_, int number) in arch.ProcessCreation)
            {
                bpf.JumpIfEqual((uint)number, Deny, null);
            }
        }

        if (!allowUnixConnect && !allowInternetSockets)
        {
            bpf.JumpIfEqual((uint)arch.Connect, Deny, null);
        }

        bpf.JumpIfEqual((uint)arch.Socket, SocketCheck, null);
        bpf.JumpIfEqual((uint)arch.SocketPair, SocketCheck, null);
        bpf.JumpIfEqual((uint)arch.Clone, CloneCheck, null);
        bpf.JumpIfEqual((uint)arch.Clone3, Enosys, null);
        bpf.Return(SECCOMP_RET_ALLOW);

        bpf.Label(SocketCheck);
        bpf.LoadWord(OffsetArgLow(0));
        bpf.JumpIfEqual(AF_UNIX, UnixType, allowInternetSockets ? Allow : Deny);
        bpf.Label(UnixType);
        bpf.LoadWord(OffsetArgLow(1));
        bpf.And(Interop.Sockets.SOCK_TYPE_MASK);
        bpf.JumpIfEqual(SOCK_STREAM, Allow, null);
        bpf.JumpIfEqual(SOCK_SEQPACKET, Allow, Deny);

        bpf.Label(CloneCheck);
        bpf.LoadWord(OffsetArgLow(0));
        if (allowProcessCreation)
        {
            bpf.JumpIfAnySet(CloneNamespaceFlags, Deny, Allow);
        }
        else
        {
            bpf.JumpIfAnySet(CloneNamespaceFlags, Deny, null);
            bpf.JumpIfAnySet(CloneThread, Allow, Deny);
        }

        bpf.Label(Enosys);
        bpf.Return(SECCOMP_RET_ERRNO | (Interop.Errno.ENOSYS & SECCOMP_RET_DATA));

        bpf.Label(Allow);
        bpf.Return(SECCOMP_RET_ALLOW);

        bpf.Label(Deny);
        bpf.Return(DenyReturn(denyAction));

        bpf.Label(Foreign);
        bpf.Return(SECCOMP_RET_KILL_PROCESS);
        return bpf.Build();
    }

    /// <summary>Installs a filter on every thread of this process at once.</summary>
    /// <param name="arch">This process's architecture.</param>
    /// <param name="program">The program from <see cref="Build"/>.</param>
    /// <exception cref="SandboxException">The kernel refused, or a thread could not be synchronized.</exception>
    /// <remarks>Needs <c>no_new_privs</c> (or CAP_SYS_ADMIN); TSYNC sets it on every thread too.</remarks>
    public static unsafe void InstallOnAllThreads(SeccompArchitecture arch, sock_filter[] program)
    {
        fixed (sock_filter* code = program)
        {
            var fprog = new sock_fprog { len = (ushort)program.Length, filter = code };
            long result = Interop.Syscall(arch.SeccompSyscall, (nint)SECCOMP_SET_MODE_FILTER, (nint)SECCOMP_FILTER_FLAG_TSYNC, (nint)(&fprog));
            if (result < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new SandboxException(
                    SandboxLayers.Seccomp,
                    $"Sandbox layer Seccomp: seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) failed ({Errors.Name(errno)}).",
                    errno);
            }

            if (result > 0)
            {
                throw new SandboxException(
                    SandboxLayers.Seccomp,
                    $"Sandbox layer Seccomp: thread {result} could not be synchronized to the filter (it has a different seccomp ancestry).");
            }
        }
    }

    /// <summary>Whether this kernel has seccomp filters with TSYNC, probed without installing anything.</summary>
    /// <param name="arch">This process's architecture.</param>
    /// <returns>True when a TSYNC filter can be installed.</returns>
    /// <remarks>
    /// The kernel checks the flags before it reads the program, so a null program gives EFAULT when TSYNC is
    /// known and EINVAL when it is not (ENOSYS, or EINVAL for the mode, without seccomp).
    /// </remarks>
    public static bool ProbeTsync(SeccompArchitecture arch)
    {
        long result = Interop.Syscall(arch.SeccompSyscall, (nint)SECCOMP_SET_MODE_FILTER, (nint)SECCOMP_FILTER_FLAG_TSYNC, 0);
        int errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
        return errno == Interop.Errno.EFAULT;
    }
}
