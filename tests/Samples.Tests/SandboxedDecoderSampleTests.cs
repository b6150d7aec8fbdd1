using System;
using System.Threading.Tasks;
using Xunit;

namespace IpcChannel.Samples.Tests;

public class SandboxedDecoderSampleTests
{
    [Fact(Timeout = 180_000)]
    public async Task SandboxedDecoder_Demo_SurvivesHostileInputs_AndRunsToCompletion()
    {
        string text = await SampleRunner.RunToSuccessAsync("SandboxedDecoder", TimeSpan.FromSeconds(150), ["--demo"]);

        // Good images decode; a malformed one and a write outside the worker's directory fail only their request;
        // a 900 MB header (past the memory cap) and a nesting bomb (stack overflow) kill the decoder, which is
        // restarted, and the app keeps serving to the end.
        Assert.Contains("demo: decoded sunrise.timg: 64x48", text, StringComparison.Ordinal);
        Assert.Contains("demo: rejected truncated.timg: System.IO.InvalidDataException", text, StringComparison.Ordinal);
        Assert.Contains("demo: huge.timg crashed the decoder (incarnation 1", text, StringComparison.Ordinal);
        Assert.Contains("exceeded its memory cap", text, StringComparison.Ordinal);
        Assert.Contains("demo: decoded tiles.timg: 32x32", text, StringComparison.Ordinal);
        Assert.Contains("demo: rejected sneaky.timg: System.IO.IOException", text, StringComparison.Ordinal);
        Assert.Contains("demo: deep.timg crashed the decoder (incarnation 2", text, StringComparison.Ordinal);
        Assert.Contains("demo: decoded sunset.timg: 48x64", text, StringComparison.Ordinal);
        Assert.Contains("does not exist: the sandbox kept the decoder's write out", text, StringComparison.Ordinal);
        Assert.Contains("demo: done: 3 decoded, 2 rejected, 2 crashes survived, decoder restarted 2 times, 0 unexpected", text, StringComparison.Ordinal);
    }
}
