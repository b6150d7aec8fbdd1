using System.IO;
using System.Runtime.InteropServices;
using IpcChannel.Supervisor.Sandbox;
using Xunit;
using static IpcChannel.Supervisor.Sandbox.Interop;

namespace IpcChannel.Sandbox.Tests;

/// <summary>Struct sizes and constants against the UAPI headers (landlock.h, filter.h, mount.h, capability.h, resource.h).</summary>
public sealed unsafe class InteropLayoutTests
{
    [Fact]
    public void StructSizes_MatchTheKernelAbi()
    {
        Assert.Equal(24, sizeof(Landlock.landlock_ruleset_attr));
        Assert.Equal(12, sizeof(Landlock.landlock_path_beneath_attr)); // __attribute__((packed))
        Assert.Equal(16, sizeof(Landlock.landlock_net_port_attr));
        Assert.Equal(8, sizeof(Filter.sock_filter));
        Assert.Equal(16, sizeof(Filter.sock_fprog));
        Assert.Equal(8, (int)Marshal.OffsetOf<Filter.sock_fprog>(nameof(Filter.sock_fprog.filter)));
        Assert.Equal(MountFlags.MOUNT_ATTR_SIZE_VER0, sizeof(MountFlags.mount_attr));
        Assert.Equal(8, sizeof(Capability.__user_cap_header_struct));
        Assert.Equal(12, sizeof(Capability.__user_cap_data_struct));
        Assert.Equal(16, sizeof(Resource.RLimit));
    }

    [Fact]
    public void LandlockRights_GrowWithTheAbi()
    {
        Assert.Equal(0ul, LandlockRuleset.FilesystemRightsFor(0));
        Assert.Equal(0x1FFFul, LandlockRuleset.FilesystemRightsFor(1));
        Assert.Equal(0x3FFFul, LandlockRuleset.FilesystemRightsFor(2)); // + REFER
        Assert.Equal(0x7FFFul, LandlockRuleset.FilesystemRightsFor(3)); // + TRUNCATE
        Assert.Equal(0x7FFFul, LandlockRuleset.FilesystemRightsFor(4)); // network only
        Assert.Equal(0xFFFFul, LandlockRuleset.FilesystemRightsFor(5)); // + IOCTL_DEV
        Assert.Equal(0xFFFFul, LandlockRuleset.FilesystemRightsFor(7)); // 6: scopes, 7: logging flags
    }

    [Theory]
    [InlineData(0, SandboxLayers.Landlock)]
    [InlineData(1, SandboxLayers.LandlockNetwork | SandboxLayers.LandlockScopes)]
    [InlineData(3, SandboxLayers.LandlockNetwork | SandboxLayers.LandlockScopes)]
    [InlineData(4, SandboxLayers.LandlockScopes)]
    [InlineData(5, SandboxLayers.LandlockScopes)]
    [InlineData(6, SandboxLayers.None)]
    [InlineData(7, SandboxLayers.None)]
    public void MissingLandlockLayers_FollowTheAbi(int abi, SandboxLayers missing) =>
        Assert.Equal(missing, FirstStage.MissingLandlockLayers(abi));

    [Fact]
    public void KernelLandlockAbi_IsAtLeastSeven_OnThisMachine()
    {
        // DESIGN.md: this project's machines report ABI 7; the tests below rely on it.
        Assert.True(LandlockRuleset.GetAbi() >= 7, $"Landlock ABI {LandlockRuleset.GetAbi()}");
    }

    [Fact]
    public void ElfInterpreter_OfTheWorkerApphost_IsTheDynamicLoader()
    {
        string? interpreter = ElfInterpreter.Find(Support.SandboxedWorker.WorkerProgram);
        Assert.NotNull(interpreter);
        Assert.Contains("ld-linux", interpreter, System.StringComparison.Ordinal);
        Assert.True(File.Exists(interpreter));
        Assert.Null(ElfInterpreter.Find(typeof(InteropLayoutTests).Assembly.Location)); // a .dll is not ELF
    }

    [Fact]
    public void ApplySecondStage_InAProcessNotLaunchedSandboxed_DoesNothing()
    {
        SandboxStatus status = SandboxStages.ApplySecondStage();
        Assert.False(status.IsSandboxed);
        Assert.Same(SandboxStatus.NotSandboxed, status);
        SandboxStages.RunFirstStageIfRequested(); // returns at once
    }
}
