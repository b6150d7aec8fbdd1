using System;
using System.Threading.Tasks;
using Xunit;

namespace IpcChannel.Samples.Tests;

public class PingPongSampleTests
{
    [Fact(Timeout = 120_000)]
    public async Task PingPong_RunsEndToEnd_ParentAndChildExchangeEverything()
    {
        string text = await SampleRunner.RunToSuccessAsync("PingPong", TimeSpan.FromSeconds(90), removeVariables: ["IPC_PINGPONG_SERVER"]);
        Assert.Contains("child says 'hello from child", text, StringComparison.Ordinal);
        Assert.Contains("ping 3 -> pong 3", text, StringComparison.Ordinal);
        Assert.Contains("on the side channel: 'hi from child", text, StringComparison.Ordinal);
        Assert.Contains($"summed the shared memory: {7L * (4 << 20)} (expected {7L * (4 << 20)})", text, StringComparison.Ordinal);
        Assert.Contains("the child closed its channel", text, StringComparison.Ordinal);
        Assert.Contains("child exited with 0", text, StringComparison.Ordinal);
    }
}
