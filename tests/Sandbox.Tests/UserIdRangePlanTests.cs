using System;
using System.Collections.Generic;
using System.Linq;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>Per-worker users and the total memory cap in the pure plan, and the options' validation of both.</summary>
public sealed class UserIdRangePlanTests
{
    private static readonly SandboxMachine s_root = new()
    {
        LandlockAbi = 7,
        SeccompWithTsync = true,
        UnsharePath = "/usr/bin/unshare",
        SetprivPath = "/usr/bin/setpriv",
        NamespacesWork = true,
        DistinctUsersWork = true,
    };

    private static SandboxLaunchSpec Spec() => new("/app/Worker", [], new Dictionary<string, string>(StringComparer.Ordinal), null, []);

    [Fact]
    public void Plan_DistinctUser_RunsTheWorkerAsThatUserBeforeItsNamespaces_WithoutAWarning()
    {
        SandboxedLaunch launch = SandboxLauncher.Plan(new SandboxOptions(), Spec(), "w", s_root, new Dictionary<string, string>(),
            SandboxUser.Distinct(2_000_000_007, 2_000_000_000));

        Assert.Equal(
            ["/usr/bin/setpriv", "--reuid=2000000007", "--regid=2000000000", "--clear-groups", "--", "/usr/bin/unshare", "--user", "--map-root-user"],
            launch.Launch.Prefix.Take(8));
        Assert.Equal(2_000_000_007, launch.UserId);
        Assert.Equal(2_000_000_000, launch.GroupId);
        Assert.Empty(launch.Warnings);
    }

    [Fact]
    public void Plan_SharedUserWhileTheRangeIsOn_WarnsWithTheReasonAndWhatIsShared()
    {
        SandboxedLaunch launch = SandboxLauncher.Plan(new SandboxOptions(), Spec(), "w", s_root, new Dictionary<string, string>(),
            SandboxUser.Shared("the supervisor is not root (uid 1000)"));

        Assert.DoesNotContain("/usr/bin/setpriv", launch.Launch.Prefix);
        Assert.Null(launch.UserId);
        string warning = Assert.Single(launch.Warnings);
        Assert.Contains("the supervisor is not root (uid 1000)", warning, StringComparison.Ordinal);
        Assert.Contains("ETOOMANYREFS", warning, StringComparison.Ordinal);
        Assert.Contains("RLIMIT_NPROC", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_WithoutAnAssignedUser_WarnsWithTheMachinesReason()
    {
        SandboxMachine notRoot = s_root with { DistinctUsersWork = false, DistinctUsersProblem = "the supervisor is not root (uid 1000)" };

        SandboxedLaunch launch = SandboxLauncher.Plan(new SandboxOptions(), Spec(), "w", notRoot, new Dictionary<string, string>());

        Assert.Contains("the supervisor is not root (uid 1000)", Assert.Single(launch.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_RangeOff_SharedUserWithoutAWarning()
    {
        var options = new SandboxOptions { UserIdRange = { Count = 0 } };

        SandboxedLaunch launch = SandboxLauncher.Plan(options, Spec(), "w", s_root, new Dictionary<string, string>(), SandboxUser.Shared("off"));

        Assert.Empty(launch.Warnings);
    }

    [Fact]
    public void Plan_ExplicitRunAsUser_WinsOverTheAssignedOne()
    {
        var options = new SandboxOptions { RunAsUserId = 65534, RunAsGroupId = 65534 };

        SandboxedLaunch launch = SandboxLauncher.Plan(options, Spec(), "w", s_root, new Dictionary<string, string>(), SandboxUser.Distinct(2_000_000_001, 2_000_000_000));

        Assert.Equal(65534, launch.UserId);
        Assert.Contains("--reuid=65534", launch.Launch.Prefix);
    }

    [Fact]
    public void Plan_Default_CarriesTheDataCapToTheStages()
    {
        SandboxedLaunch launch = SandboxLauncher.Plan(new SandboxOptions(), Spec(), "w", s_root, new Dictionary<string, string>());

        StageConfig config = StageConfig.Decode(launch.Launch.Environment["IPCCHANNEL_SANDBOX_CONFIG"]);
        Assert.Equal(SandboxOptions.DefaultMaxDataBytes, config.MaxDataBytes);
        Assert.True(SandboxOptions.DefaultMaxDataBytes >= SandboxOptions.DefaultMaxGcHeapBytes + SandboxOptions.MinimumDataAboveGcHeapBytes);
    }

    [Theory]
    [InlineData(64L << 20, null, "MaxDataBytes must be at least")]
    [InlineData(512L << 20, 512L << 20, "must be at least MaxGcHeapBytes")]
    public void Validate_DataCapTooSmallOrBelowTheGcHeap_IsRefused(long data, long? heap, string expected)
    {
        var options = new SandboxOptions { MaxDataBytes = data, MaxGcHeapBytes = heap };

        Assert.Contains(options.Validate(), p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0, 10, null)]
    [InlineData(60_000, 10_000, null)]
    [InlineData(int.MaxValue, 2, null)]
    [InlineData(2_000_000_000, -1, null)]
    [InlineData(2_000_000_000, 10, 0)]
    public void Validate_BadUserIdRange_IsRefused(int first, int count, int? group)
    {
        var options = new SandboxOptions { UserIdRange = { First = first, Count = count, GroupId = group } };

        Assert.Contains(options.Validate(), p => p.StartsWith("UserIdRange", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DefaultRange_IsAccepted()
    {
        var options = new SandboxOptions();

        Assert.Empty(options.Validate());
        Assert.True(options.UserIdRange.Contains(SandboxUserIdRange.DefaultFirst + SandboxUserIdRange.DefaultCount - 1));
        Assert.False(options.UserIdRange.Contains(SandboxUserIdRange.DefaultFirst + SandboxUserIdRange.DefaultCount));
        Assert.Equal(SandboxUserIdRange.DefaultFirst, options.UserIdRange.EffectiveGroupId);
    }
}
