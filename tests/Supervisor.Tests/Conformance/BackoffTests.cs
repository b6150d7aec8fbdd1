using System;
using System.Collections.Generic;
using IpcChannel.Supervisor.Parent.Policy;
using Xunit;
using static IpcChannel.Supervisor.IpcRestartType;

namespace IpcChannel.Supervisor.Tests.Conformance;

/// <summary>The backoff between restarts (no OTP equivalent) and its bounds, on a fake clock with seeded jitter.</summary>
public class BackoffTests
{
    [Fact]
    public void Series_FirstImmediate_ThenDoublingUpToTheMax()
    {
        var driver = new PlannerDriver([Permanent], o =>
        {
            o.MaxRestarts = 100;
            o.RestartPeriod = TimeSpan.FromMilliseconds(1);
            o.BackoffInitial = TimeSpan.FromMilliseconds(100);
            o.BackoffMax = TimeSpan.FromMilliseconds(1000);
        });

        var delays = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            driver.Time.Advance(TimeSpan.FromMilliseconds(10));
            RestartPlan plan = driver.End(0);
            delays.Add(plan.Delay.TotalMilliseconds);
            driver.Apply(plan);
        }

        Assert.Equal([0, 100, 200, 400, 800, 1000, 1000], delays);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(42)]
    public void Jitter_StaysWithinItsFraction_AndIsReproducibleFromTheSeed(int seed)
    {
        TimeSpan SecondDelay()
        {
            var driver = new PlannerDriver([Permanent], o =>
            {
                o.BackoffInitial = TimeSpan.FromSeconds(1);
                o.BackoffJitter = 0.2;
            }, seed);
            driver.Apply(driver.End(0));
            return driver.End(0).Delay;
        }

        TimeSpan delay = SecondDelay();

        Assert.InRange(delay.TotalMilliseconds, 800, 1200);
        Assert.Equal(delay, SecondDelay());
    }

    [Theory]
    [InlineData(9_999, 100)]
    [InlineData(10_000, 0)]
    public void Reset_AnIncarnationUpForBackoffResetAfter_StartsANewSeries(int upMilliseconds, double expectedDelay)
    {
        var driver = new PlannerDriver([Permanent], o => o.BackoffResetAfter = TimeSpan.FromSeconds(10));
        driver.Apply(driver.End(0));

        driver.Time.Advance(TimeSpan.FromMilliseconds(upMilliseconds));

        Assert.Equal(expectedDelay, driver.End(0).Delay.TotalMilliseconds);
    }

    [Fact]
    public void Reset_MeasuresUptimeUpToTheExit_NotUpToTheDecision()
    {
        var driver = new PlannerDriver([Permanent], o => o.BackoffResetAfter = TimeSpan.FromSeconds(10));
        driver.Apply(driver.End(0));
        driver.Time.Advance(TimeSpan.FromSeconds(5));
        long exitedAt = driver.Time.GetTimestamp();

        driver.Time.Advance(TimeSpan.FromSeconds(10));   // the decision comes late
        RestartPlan plan = driver.Planner.OnExit(new WorkerEnd(0, true, exitedAt), driver.Slots);

        Assert.Equal(TimeSpan.FromMilliseconds(100), plan.Delay);
    }

    [Fact]
    public void Series_IsPerWorker()
    {
        var driver = new PlannerDriver([Permanent, Permanent]);
        driver.Apply(driver.End(0));

        Assert.Equal(TimeSpan.FromMilliseconds(100), driver.End(0).Delay);
        Assert.Equal(TimeSpan.Zero, driver.End(1).Delay);
    }
}
