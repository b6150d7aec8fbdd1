using System;
using IpcChannel.Supervisor.Hosting;
using Xunit;
using static IpcChannel.Supervisor.IpcRestartType;

namespace IpcChannel.Supervisor.Tests.Conformance;

/// <summary>A crash loop under backoff gives up, within the bound <see cref="IpcSupervisorOptions.RestartPeriod"/>
/// documents: a backoff decides when, never whether.</summary>
public class CrashLoopTests
{
    /// <summary>The documented bound from the first crash to the give-up.</summary>
    private static TimeSpan Bound(IpcSupervisorOptions o, TimeSpan startTimeout) =>
        (o.MaxRestarts * ((o.BackoffMax * (1 + o.BackoffJitter)) + startTimeout)) + o.RestartPeriod;

    [Fact]
    public void Defaults_WorkerCrashing1800msAfterLaunch_GivesUpAtItsSixthEnd()
    {
        var driver = new PlannerDriver([Permanent], o => o.BackoffJitter = 0.2, seed: 7);

        (TimeSpan Elapsed, int Ends)? giveUp = driver.CrashLoop(TimeSpan.FromMilliseconds(1600), TimeSpan.FromMinutes(10));

        Assert.NotNull(giveUp);
        Assert.Equal(6, giveUp.Value.Ends);
        Assert.True(giveUp.Value.Elapsed <= Bound(driver.Options, TimeSpan.FromSeconds(10)), $"{giveUp.Value.Elapsed}");
    }

    [Theory]
    [InlineData(1_000, 5_000, 5, 10_000)]       // BackoffInitial 1 s, crash at start
    [InlineData(5_000, 5_000, 5, 10_000)]
    [InlineData(100, 60_000, 3, 2_000)]
    [InlineData(30_000, 300_000, 10, 1_000)]    // delays far longer than the period
    public void AnyBackoff_CrashAtStart_GivesUpAtEndMaxRestartsPlusOne_WithinTheBound(int initialMs, int maxMs, int maxRestarts, int periodMs)
    {
        var driver = new PlannerDriver([Permanent], o =>
        {
            o.BackoffInitial = TimeSpan.FromMilliseconds(initialMs);
            o.BackoffMax = TimeSpan.FromMilliseconds(maxMs);
            o.BackoffJitter = 0.2;
            o.MaxRestarts = maxRestarts;
            o.RestartPeriod = TimeSpan.FromMilliseconds(periodMs);
        });
        driver.Launch = TimeSpan.FromSeconds(2);

        (TimeSpan Elapsed, int Ends)? giveUp = driver.CrashLoop(TimeSpan.FromMilliseconds(50), TimeSpan.FromDays(1));

        Assert.NotNull(giveUp);
        Assert.Equal(maxRestarts + 1, giveUp.Value.Ends);
        Assert.True(giveUp.Value.Elapsed <= Bound(driver.Options, driver.Launch), $"{giveUp.Value.Elapsed}");
    }

    [Theory]
    [InlineData(50)]
    [InlineData(1_600)]
    [InlineData(2_500)]
    [InlineData(4_000)]
    public void GiveUpDecision_IsTheSameWithAndWithoutBackoff(int uptimeMs)
    {
        (TimeSpan, int Ends)? Run(bool backoff)
        {
            var driver = new PlannerDriver([Permanent], o =>
            {
                o.BackoffInitial = backoff ? TimeSpan.FromSeconds(1) : TimeSpan.Zero;
                o.BackoffMax = backoff ? TimeSpan.FromSeconds(30) : TimeSpan.Zero;
                o.BackoffJitter = 0.2;
            });
            return driver.CrashLoop(TimeSpan.FromMilliseconds(uptimeMs), TimeSpan.FromMinutes(30));
        }

        (TimeSpan, int Ends)? with = Run(backoff: true);
        (TimeSpan, int Ends)? without = Run(backoff: false);

        Assert.Equal(without is null, with is null);
        Assert.Equal(without?.Ends, with?.Ends);
    }

    [Theory]
    [InlineData(200, 100)]      // BackoffInitial above BackoffMax
    [InlineData(-1, 100)]
    public void Validator_RefusesInvalidBackoff(int initialMs, int maxMs)
    {
        var options = new IpcSupervisorOptions { BackoffInitial = TimeSpan.FromMilliseconds(initialMs), BackoffMax = TimeSpan.FromMilliseconds(maxMs) };

        Assert.Contains("BackoffInitial", Assert.Single(Validate(options)));
    }

    [Fact]
    public void Validator_RefusesInvalidIntensityAndReset()
    {
        var options = new IpcSupervisorOptions
        {
            MaxRestarts = -1,
            RestartPeriod = TimeSpan.Zero,
            BackoffResetAfter = TimeSpan.Zero,
            BackoffJitter = 1.5,
        };

        string[] failures = Validate(options);

        Assert.Contains(failures, f => f.Contains("MaxRestarts", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("RestartPeriod", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("BackoffResetAfter", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("BackoffJitter", StringComparison.Ordinal));
    }

    [Fact]
    public void Validator_AcceptsBackoffLongerThanThePeriod_ItCannotHideACrashLoop()
    {
        var options = new IpcSupervisorOptions { BackoffInitial = TimeSpan.FromSeconds(30), BackoffMax = TimeSpan.FromMinutes(5), RestartPeriod = TimeSpan.FromSeconds(1) };

        Assert.Empty(Validate(options));
    }

    private static string[] Validate(IpcSupervisorOptions options) =>
        [.. new IpcSupervisorOptionsValidator().Validate(null, options).Failures ?? []];
}
