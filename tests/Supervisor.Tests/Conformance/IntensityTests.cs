using System;
using IpcChannel.Supervisor.Parent.Policy;
using Xunit;
using static IpcChannel.Supervisor.IpcRestartType;

namespace IpcChannel.Supervisor.Tests.Conformance;

/// <summary>OTP's restart intensity (<c>intensity</c>, <c>period</c>) on the planner, on a fake clock.</summary>
public class IntensityTests
{
    private static void NoBackoff(IpcSupervisorOptions o)
    {
        o.BackoffInitial = TimeSpan.Zero;
        o.BackoffMax = TimeSpan.Zero;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public void MaxRestarts_N_GivesUpOnRestartNPlusOne(int maxRestarts)
    {
        var driver = new PlannerDriver([Permanent], o =>
        {
            NoBackoff(o);
            o.MaxRestarts = maxRestarts;
        });

        for (int i = 0; i < maxRestarts; i++)
        {
            RestartPlan plan = driver.End(0);
            Assert.False(plan.GiveUp, $"restart {i + 1}");
            driver.Apply(plan);
        }

        Assert.True(driver.End(0).GiveUp);
    }

    [Fact]
    public void Window_Slides_OldRestartsExpire()
    {
        var driver = new PlannerDriver([Permanent], o =>
        {
            NoBackoff(o);
            o.MaxRestarts = 2;
            o.RestartPeriod = TimeSpan.FromSeconds(10);
        });

        driver.Apply(driver.End(0));
        driver.Time.Advance(TimeSpan.FromSeconds(6));
        driver.Apply(driver.End(0));
        driver.Time.Advance(TimeSpan.FromSeconds(6));

        RestartPlan third = driver.End(0);

        Assert.False(third.GiveUp);
        Assert.Equal(2, driver.Planner.RestartsInWindow);
    }

    [Theory]
    [InlineData(0, true)]       // exactly one period old: still in the window (OTP keeps R >= Now - Period)
    [InlineData(1, false)]      // one tick older: out
    public void Window_Boundary_ARestartExactlyOnePeriodOldStillCounts(long extraTicks, bool givesUp)
    {
        var driver = new PlannerDriver([Permanent], o =>
        {
            NoBackoff(o);
            o.MaxRestarts = 1;
            o.RestartPeriod = TimeSpan.FromSeconds(10);
        });
        driver.Launch = TimeSpan.Zero;
        driver.Apply(driver.End(0));

        driver.Time.Advance(TimeSpan.FromSeconds(10) + TimeSpan.FromTicks(extraTicks));

        Assert.Equal(givesUp, driver.End(0).GiveUp);
    }

    [Fact]
    public void RestartsOfDifferentWorkers_CountTowardOneLimit()
    {
        var driver = new PlannerDriver([Permanent, Permanent, Permanent], o => o.MaxRestarts = 2);

        driver.Apply(driver.End(0));
        driver.Apply(driver.End(1));

        Assert.True(driver.End(2).GiveUp);
    }

    [Theory]
    [InlineData(IpcRestartStrategy.OneForAll)]
    [InlineData(IpcRestartStrategy.RestForOne)]
    public void GroupRestart_CountsOnce_StoppedSiblingsAreNoEntries(IpcRestartStrategy strategy)
    {
        var driver = new PlannerDriver([Permanent, Permanent, Permanent], o =>
        {
            o.Strategy = strategy;
            o.MaxRestarts = 1;
        });

        RestartPlan group = driver.End(0);
        driver.Apply(group);

        Assert.Equal(3, group.Start.Count);
        Assert.Equal(1, driver.Planner.RestartsInWindow);
        Assert.True(driver.End(0).GiveUp);
    }

    [Fact]
    public void GiveUp_StopsEveryAliveWorkerInReverseOrder()
    {
        var driver = new PlannerDriver([Permanent, Permanent, Temporary, Permanent], o => o.MaxRestarts = 0);
        driver.SetPhase(2, SlotPhase.Ended);

        RestartPlan plan = driver.End(1);

        Assert.True(plan.GiveUp);
        Assert.Equal([3, 0], plan.Stop);
        Assert.Empty(plan.Start);
    }
}
