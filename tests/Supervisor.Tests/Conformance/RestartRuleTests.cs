using System;
using System.Linq;
using IpcChannel.Supervisor.Parent;
using IpcChannel.Supervisor.Parent.Policy;
using Xunit;
using static IpcChannel.Supervisor.IpcRestartType;

namespace IpcChannel.Supervisor.Tests.Conformance;

/// <summary>OTP's restart types, strategies and exit classification, on the planner (no processes, no waiting).</summary>
public class RestartRuleTests
{
    [Fact]
    public void Permanent_NormalExit_Restarted()
    {
        var driver = new PlannerDriver([Permanent]);

        RestartPlan plan = driver.End(0, abnormal: false);

        Assert.Equal([0], plan.Start);
        Assert.Empty(plan.Finished);
        Assert.False(plan.GiveUp);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Transient_RestartedOnlyAfterAnAbnormalEnd(bool abnormal, bool restarted)
    {
        var driver = new PlannerDriver([Transient]);

        RestartPlan plan = driver.End(0, abnormal);

        Assert.Equal(restarted, plan.Start.Count == 1);
        Assert.Equal(!restarted, plan.Finished.Contains(0));
    }

    [Theory]
    [InlineData(0, null, false)]          // ExecuteAsync returned, a stop message, or an outside SIGTERM: the host stops, exit 0
    [InlineData(1, null, true)]           // ExecuteAsync/OnMessageAsync threw
    [InlineData(134, null, true)]         // signal (FailFast: SIGABRT)
    [InlineData(137, null, true)]         // SIGKILL, OOM kill
    [InlineData(-1, "could not launch: no such file", true)]
    [InlineData(137, "hung: no heartbeat answer for 1500 ms", true)]
    [InlineData(137, "protocol violation: sent garbage", true)]
    [InlineData(0, "its data channel closed but the process did not exit", true)]
    public void WorkerExit_ClassifiesNormalAndAbnormal(int code, string? reason, bool abnormal)
    {
        Assert.Equal(abnormal, new WorkerExit(code, reason, false).Abnormal);
    }

    [Fact]
    public void Temporary_Crash_NotRestarted_AddsNothingToIntensity()
    {
        var driver = new PlannerDriver([Temporary, Permanent], o => o.MaxRestarts = 0);

        RestartPlan temporary = driver.End(0);
        driver.Apply(temporary);

        Assert.Equal([0], temporary.Finished);
        Assert.Empty(temporary.Start);
        Assert.False(temporary.GiveUp);
        Assert.Equal(0, driver.Planner.RestartsInWindow);
        Assert.True(driver.End(1).GiveUp);
    }

    [Fact]
    public void OneForOne_OnlyTheEndedWorker()
    {
        var driver = new PlannerDriver([Permanent, Permanent, Permanent]);

        RestartPlan plan = driver.End(1);

        Assert.Empty(plan.Stop);
        Assert.Equal([1], plan.Start);
    }

    [Fact]
    public void OneForAll_StopsOthersInReverseOrder_StartsAllInOrder()
    {
        var driver = new PlannerDriver([Permanent, Permanent, Permanent, Permanent], o => o.Strategy = IpcRestartStrategy.OneForAll);

        RestartPlan plan = driver.End(1);

        Assert.Equal([3, 2, 0], plan.Stop);
        Assert.Equal([0, 1, 2, 3], plan.Start);
    }

    [Fact]
    public void RestForOne_LaterOnesStoppedInReverse_StartedInOrder_EarlierOnesLeftAlone()
    {
        var driver = new PlannerDriver([Permanent, Permanent, Permanent, Permanent], o => o.Strategy = IpcRestartStrategy.RestForOne);

        RestartPlan plan = driver.End(1);

        Assert.Equal([3, 2], plan.Stop);
        Assert.Equal([1, 2, 3], plan.Start);
    }

    [Theory]
    [InlineData(IpcRestartStrategy.OneForAll)]
    [InlineData(IpcRestartStrategy.RestForOne)]
    public void Group_TemporaryChildCrashes_SiblingsLeftAlone(IpcRestartStrategy strategy)
    {
        var driver = new PlannerDriver([Permanent, Temporary, Permanent], o => o.Strategy = strategy);

        RestartPlan plan = driver.End(1);

        Assert.Empty(plan.Stop);
        Assert.Empty(plan.Start);
        Assert.Equal([1], plan.Finished);
    }

    [Fact]
    public void OneForAll_TemporarySibling_StoppedButNotRestarted()
    {
        var driver = new PlannerDriver([Temporary, Permanent, Permanent], o => o.Strategy = IpcRestartStrategy.OneForAll);

        RestartPlan plan = driver.End(1);

        Assert.Equal([2, 0], plan.Stop);
        Assert.Equal([1, 2], plan.Start);
        Assert.Equal([0], plan.Finished);
    }

    [Fact]
    public void OneForAll_TransientSiblingThatEndedNormally_RevivedWithTheGroup()
    {
        var driver = new PlannerDriver([Transient, Permanent, Permanent], o => o.Strategy = IpcRestartStrategy.OneForAll);
        driver.Apply(driver.End(0, abnormal: false));
        Assert.Equal(SlotPhase.Ended, driver.Phase(0));

        RestartPlan plan = driver.End(1);

        Assert.Equal([2], plan.Stop);
        Assert.Equal([0, 1, 2], plan.Start);
    }

    [Fact]
    public void RestForOne_TransientSiblingThatEndedNormally_RevivedIfAfter_LeftIfBefore()
    {
        var driver = new PlannerDriver([Transient, Permanent, Transient], o => o.Strategy = IpcRestartStrategy.RestForOne);
        driver.Apply(driver.End(0, abnormal: false));
        driver.Apply(driver.End(2, abnormal: false));

        RestartPlan plan = driver.End(1);

        Assert.Empty(plan.Stop);
        Assert.Equal([1, 2], plan.Start);
    }

    [Fact]
    public void Group_SiblingWithAPendingRestart_LeftToIt()
    {
        var driver = new PlannerDriver([Permanent, Permanent, Permanent], o => o.Strategy = IpcRestartStrategy.OneForAll);
        driver.SetPhase(2, SlotPhase.RestartPending);

        RestartPlan plan = driver.End(0);

        Assert.Equal([1], plan.Stop);
        Assert.Equal([0, 1], plan.Start);
    }

    [Fact]
    public void Delay_IsTheGroupsOwn_AnotherWorkersEndDuringItIsPlannedAtOnce()
    {
        var driver = new PlannerDriver([Permanent, Permanent], o => o.BackoffInitial = o.BackoffMax = TimeSpan.FromSeconds(8));
        driver.Apply(driver.End(0));
        RestartPlan slow = driver.End(0);
        Assert.Equal(TimeSpan.FromSeconds(8), slow.Delay);
        driver.SetPhase(0, SlotPhase.RestartPending);

        RestartPlan other = driver.End(1);

        Assert.Equal([1], other.Start);
        Assert.Equal(TimeSpan.Zero, other.Delay);
    }
}
