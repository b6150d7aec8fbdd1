using System;
using System.Linq;
using System.Threading;
using IpcChannel.Supervisor.Hosting;
using IpcChannel.Supervisor.Parent.Policy;
using Xunit;

namespace IpcChannel.Supervisor.Tests.Conformance;

/// <summary>OTP's <c>shutdown</c> of a child as the supervisor's stop steps.</summary>
public class StopStepTests
{
    [Fact]
    public void Timeout_StopMessage_ThenSigtermAfterStopTimeout_ThenSigkillAfterTerminateTimeout()
    {
        var options = new IpcWorkerOptions { StopTimeout = TimeSpan.FromSeconds(3), TerminateTimeout = TimeSpan.FromSeconds(2) };

        Assert.Equal(
            [new StopStep(StopAction.Message, TimeSpan.FromSeconds(3)), new StopStep(StopAction.Terminate, TimeSpan.FromSeconds(2)), new StopStep(StopAction.Kill, StopStep.KillWait)],
            StopStep.For(options, connected: true));
    }

    [Fact]
    public void NotConnectedYet_NoMessage_SigtermFirst()
    {
        var options = new IpcWorkerOptions { TerminateTimeout = TimeSpan.FromSeconds(2) };

        Assert.Equal([StopAction.Terminate, StopAction.Kill], [.. StopStep.For(options, connected: false).Select(s => s.Action)]);
    }

    [Fact]
    public void BrutalKill_ZeroStopTimeout_SigkillAtOnce()
    {
        var options = new IpcWorkerOptions { StopTimeout = TimeSpan.Zero };

        Assert.Equal([StopAction.Kill], [.. StopStep.For(options, connected: true).Select(s => s.Action)]);
    }

    [Fact]
    public void Infinity_InfiniteStopTimeout_StopMessageThenNoLimit()
    {
        var options = new IpcWorkerOptions { StopTimeout = Timeout.InfiniteTimeSpan };

        Assert.Equal([new StopStep(StopAction.Message, Timeout.InfiniteTimeSpan)], StopStep.For(options, connected: true));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(-1, true)]      // Timeout.InfiniteTimeSpan
    [InlineData(-2, false)]
    [InlineData(500, true)]
    public void Validator_StopTimeout_AcceptsBrutalKillAndInfinity(int milliseconds, bool valid)
    {
        var options = new IpcWorkerOptions { StopTimeout = TimeSpan.FromMilliseconds(milliseconds) };

        Assert.Equal(valid, new IpcWorkerOptionsValidator().Validate("w", options).Succeeded);
    }
}
