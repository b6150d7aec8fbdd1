using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;
using static IpcChannel.Supervisor.Sandbox.Interop.Seccomp;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// The seccomp program for both architectures, run through a BPF interpreter: the arch check, the x32 bit, each
/// denied call, the argument checks and what must stay allowed for the .NET runtime.
/// </summary>
public sealed partial class SeccompFilterTests
{
    private const uint Eperm = SECCOMP_RET_ERRNO | 1;
    private const uint Enosys = SECCOMP_RET_ERRNO | 38;
    private const ulong AF_UNIX = 1;
    private const ulong AF_INET = 2;
    private const ulong AF_NETLINK = 16;
    private const ulong SIGCHLD = 17;
    private const ulong CLONE_NEWUSER = 0x10000000;
    private const ulong CLONE_NEWNET = 0x40000000;
    private const ulong CLONE_NEWNS = 0x00020000;
    private const ulong CLONE_VM = 0x00000100;
    private const ulong CLONE_SIGHAND = 0x00000800;
    private const ulong CLONE_VFORK = 0x00004000;
    private const ulong CLONE_THREAD = 0x00010000;

    /// <summary>glibc's fork (_Fork): CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD.</summary>
    private const ulong GlibcForkCloneFlags = 0x01200000 | SIGCHLD;

    /// <summary>glibc's pthread_create clone flags (CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID).</summary>
    private const ulong PthreadCloneFlags = 0x3d0f00;

    public static TheoryData<string> Architectures => new() { "x86_64", "aarch64" };

    /// <summary>System calls the runtime needs (numbers per architecture): read, write, mmap, mprotect, futex, membarrier, exit_group, getrandom, rt_sigreturn, madvise.</summary>
    private static readonly Dictionary<string, int[]> s_runtimeCalls = new()
    {
        ["x86_64"] = [0, 1, 9, 10, 202, 324, 231, 318, 15, 28],
        ["aarch64"] = [63, 64, 222, 226, 98, 283, 94, 278, 139, 233],
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void EveryAlwaysDeniedCall_ReturnsEperm(string name)
    {
        SeccompArchitecture arch = Arch(name);
        var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false);
        string[] required = ["ptrace", "process_vm_readv", "process_vm_writev", "execve", "execveat", "mount", "umount2", "kexec_load", "kexec_file_load", "bpf", "perf_event_open", "keyctl", "setns", "unshare"];
        Assert.Empty(required.Except(arch.Denied.Select(d => d.Name)));
        foreach ((string call, int number) in arch.Denied)
        {
            Assert.True(BpfInterpreter.Run(program, arch.AuditArch, number) == Eperm, $"{name} {call} ({number})");
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void RuntimeCalls_AreAllowed(string name)
    {
        SeccompArchitecture arch = Arch(name);
        var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false);
        foreach (int number in s_runtimeCalls[name])
        {
            Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, number));
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Sockets_OnlyAfUnixIsAllowed(string name)
    {
        SeccompArchitecture arch = Arch(name);
        var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false);
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Socket, AF_UNIX, 5));
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.SocketPair, AF_UNIX, 5));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Socket, AF_INET, 1));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Socket, AF_NETLINK, 3));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.SocketPair, AF_INET, 1));

        // The high half of the int argument is ignored by the kernel, and by the filter.
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Socket, 0xFFFFFFFF_00000000 | AF_UNIX, 5));

        var loose = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: true, allowProcessCreation: false);
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(loose, arch.AuditArch, arch.Socket, AF_INET, 1));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Connect_IsDenied_UnlessUnixConnectOrInternetSocketsAreAllowed(string name)
    {
        SeccompArchitecture arch = Arch(name);
        var strict = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false);
        Assert.Equal(Eperm, BpfInterpreter.Run(strict, arch.AuditArch, arch.Connect, 3));

        var unix = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false, allowUnixConnect: true);
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(unix, arch.AuditArch, arch.Connect, 3));

        // The filter cannot tell a TCP socket's connect from an AF_UNIX one's: internet sockets need connect.
        var inet = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: true, allowProcessCreation: false);
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(inet, arch.AuditArch, arch.Connect, 3));

        var kill = SeccompFilter.Build(arch, SeccompDenyAction.KillProcess, allowInternetSockets: false, allowProcessCreation: false);
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, BpfInterpreter.Run(kill, arch.AuditArch, arch.Connect, 3));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void UnixSockets_OnlyStreamAndSeqpacket_WhateverTheFlags(string name)
    {
        const ulong SOCK_DGRAM = 2;
        const ulong SOCK_RAW = 3;
        const ulong SOCK_NONBLOCK_CLOEXEC = 0x800 | 0x80000;
        SeccompArchitecture arch = Arch(name);
        foreach (bool inet in new[] { false, true })
        {
            foreach (bool unixConnect in new[] { false, true })
            {
                var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: inet, allowProcessCreation: false, allowUnixConnect: unixConnect);
                foreach (int call in new[] { arch.Socket, arch.SocketPair })
                {
                    Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, call, AF_UNIX, 1 | SOCK_NONBLOCK_CLOEXEC));
                    Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, call, AF_UNIX, 5 | SOCK_NONBLOCK_CLOEXEC));
                    Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, call, AF_UNIX, SOCK_DGRAM));
                    Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, call, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK_CLOEXEC));
                    Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, call, AF_UNIX, SOCK_RAW));

                    // The high half of the int argument is ignored by the kernel, and by the filter.
                    Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, call, AF_UNIX, 0xFFFFFFFF_00000000 | SOCK_DGRAM));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Clone_ThreadsAllowed_ProcessesAndNamespacesDenied_Clone3Enosys(string name)
    {
        SeccompArchitecture arch = Arch(name);
        var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false);
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, PthreadCloneFlags));
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM));

        // A new process: fork (SIGCHLD), glibc's fork/_Fork, vfork/posix_spawn as clone.
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, SIGCHLD));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, GlibcForkCloneFlags));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, CLONE_VM | CLONE_VFORK | SIGCHLD));

        // CLONE_THREAD does not excuse a namespace flag.
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, PthreadCloneFlags | CLONE_NEWUSER));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, CLONE_NEWUSER | SIGCHLD));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, CLONE_NEWNET | SIGCHLD));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, CLONE_NEWNS | SIGCHLD));

        // Only the low 32 bits count: CLONE_THREAD in the high half is no thread.
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, (CLONE_THREAD << 32) | SIGCHLD));
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, 0xFFFFFFFF_00000000 | PthreadCloneFlags));

        Assert.Equal(Enosys, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone3));
    }

    [Fact]
    public void ForkAndVfork_OnX86_64_AreDenied_Arm64HasNeither()
    {
        SeccompArchitecture arch = SeccompArchitecture.X86_64;
        var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false);
        Assert.Equal([("fork", 57), ("vfork", 58)], arch.ProcessCreation);
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, Interop.SyscallNumbers.X64.fork));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, Interop.SyscallNumbers.X64.vfork));
        Assert.Empty(SeccompArchitecture.Aarch64.ProcessCreation);

        var kill = SeccompFilter.Build(arch, SeccompDenyAction.KillProcess, allowInternetSockets: false, allowProcessCreation: false);
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, BpfInterpreter.Run(kill, arch.AuditArch, Interop.SyscallNumbers.X64.fork));
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, BpfInterpreter.Run(kill, arch.AuditArch, arch.Clone, SIGCHLD));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void AllowProcessCreation_ForkPasses_NamespacesStillDenied(string name)
    {
        SeccompArchitecture arch = Arch(name);
        var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: true);
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, PthreadCloneFlags));
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, SIGCHLD));
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, GlibcForkCloneFlags));
        Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, CLONE_VM | CLONE_VFORK | SIGCHLD));
        foreach ((_, int number) in arch.ProcessCreation)
        {
            Assert.Equal(SECCOMP_RET_ALLOW, BpfInterpreter.Run(program, arch.AuditArch, number));
        }

        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, CLONE_NEWUSER | SIGCHLD));
        Assert.Equal(Eperm, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone, CLONE_NEWNS | SIGCHLD));
        Assert.Equal(Enosys, BpfInterpreter.Run(program, arch.AuditArch, arch.Clone3));
        foreach ((string call, int number) in arch.Denied)
        {
            Assert.True(BpfInterpreter.Run(program, arch.AuditArch, number) == Eperm, $"{name} {call} ({number})");
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void ForeignArchitecture_IsKilled(string name)
    {
        SeccompArchitecture arch = Arch(name);
        var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false);
        uint[] foreign = [Interop.Audit.AUDIT_ARCH_I386, Interop.Audit.AUDIT_ARCH_ARM, Other(arch).AuditArch];
        foreach (uint other in foreign)
        {
            // Even a call that is allowed natively: on a foreign arch its number means something else.
            Assert.Equal(SECCOMP_RET_KILL_PROCESS, BpfInterpreter.Run(program, other, s_runtimeCalls[name][0]));
        }
    }

    [Fact]
    public void X32Abi_OnX86_64_IsKilled()
    {
        SeccompArchitecture arch = SeccompArchitecture.X86_64;
        var program = SeccompFilter.Build(arch, SeccompDenyAction.Errno, allowInternetSockets: false, allowProcessCreation: false);
        const int X32Bit = 0x40000000;
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, BpfInterpreter.Run(program, arch.AuditArch, X32Bit | 0)); // x32 read
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, BpfInterpreter.Run(program, arch.AuditArch, X32Bit | 520)); // x32 execve
        Assert.Equal(0xC000003Eu, Interop.Audit.AUDIT_ARCH_X86_64);
        Assert.Equal(0xC00000B7u, Interop.Audit.AUDIT_ARCH_AARCH64);
    }

    [Theory]
    [InlineData(SeccompDenyAction.Errno, SECCOMP_RET_ERRNO | 1)]
    [InlineData(SeccompDenyAction.KillProcess, SECCOMP_RET_KILL_PROCESS)]
    [InlineData(SeccompDenyAction.Log, SECCOMP_RET_LOG)]
    public void DenyAction_IsConfigurable(SeccompDenyAction action, uint expected)
    {
        SeccompArchitecture arch = SeccompArchitecture.X86_64;
        var program = SeccompFilter.Build(arch, action, allowInternetSockets: false, allowProcessCreation: false);
        Assert.Equal(expected, BpfInterpreter.Run(program, arch.AuditArch, Interop.SyscallNumbers.X64.ptrace));
        Assert.Equal(expected, BpfInterpreter.Run(program, arch.AuditArch, arch.Socket, AF_INET));
        Assert.Equal(expected, BpfInterpreter.Run(program, arch.AuditArch, Interop.SyscallNumbers.X64.vfork));
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, BpfInterpreter.Run(program, Interop.Audit.AUDIT_ARCH_I386, 0));
    }

    /// <summary>The per-arch numbers against the UAPI headers installed on this machine (when they are).</summary>
    [Theory]
    [InlineData("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h")]
    [InlineData("x86_64", "/usr/include/asm/unistd_64.h")]
    [InlineData("aarch64", "/usr/include/asm-generic/unistd.h")]
    public void SyscallNumbers_MatchTheKernelHeaders(string name, string header)
    {
        if (!File.Exists(header))
        {
            return; // Not installed here; nothing to compare with.
        }

        var defined = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match match in DefineRegex().Matches(File.ReadAllText(header)))
        {
            defined[match.Groups[1].Value] = int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        SeccompArchitecture arch = Arch(name);
        var checkedCalls = new List<string>();
        foreach ((string call, int number) in arch.Denied.Concat(arch.ProcessCreation).Append(("socket", arch.Socket)).Append(("socketpair", arch.SocketPair)).Append(("connect", arch.Connect))
            .Append(("clone", arch.Clone)).Append(("clone3", arch.Clone3)).Append(("seccomp", arch.SeccompSyscall)))
        {
            if (defined.TryGetValue(call, out int expected))
            {
                Assert.True(expected == number, $"{name} {call}: header says {expected}, table says {number}");
                checkedCalls.Add(call);
            }
        }

        // Older headers lack the newest calls (open_tree_attr), but the bulk must be there.
        Assert.True(checkedCalls.Count >= arch.Denied.Count, $"only {checkedCalls.Count} calls found in {header}");
    }

    private static SeccompArchitecture Arch(string name) => name == "x86_64" ? SeccompArchitecture.X86_64 : SeccompArchitecture.Aarch64;

    private static SeccompArchitecture Other(SeccompArchitecture arch) => arch == SeccompArchitecture.X86_64 ? SeccompArchitecture.Aarch64 : SeccompArchitecture.X86_64;

    [GeneratedRegex(@"#define\s+__NR(?:3264)?_(\w+)\s+(\d+)\b")]
    private static partial Regex DefineRegex();
}
