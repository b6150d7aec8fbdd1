using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace IpcChannel.Samples.Tests;

public class PingPongSampleTests
{
    [Fact(Timeout = 120_000)]
    public async Task PingPong_RunsEndToEnd_ParentAndChildExchangeEverything()
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, "PingPong");
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (File.Exists(apphost))
        {
            start.FileName = apphost;
        }
        else
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "PingPong.dll"));
        }

        start.Environment.Remove("IPC_PINGPONG_SERVER");
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(cts.Token);
        string text = await output;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{text}\n{await errors}");
        Assert.Contains("child says 'hello from child", text, StringComparison.Ordinal);
        Assert.Contains("ping 3 -> pong 3", text, StringComparison.Ordinal);
        Assert.Contains("on the side channel: 'hi from child", text, StringComparison.Ordinal);
        Assert.Contains($"summed the shared memory: {7L * (4 << 20)} (expected {7L * (4 << 20)})", text, StringComparison.Ordinal);
        Assert.Contains("the child closed its channel", text, StringComparison.Ordinal);
        Assert.Contains("child exited with 0", text, StringComparison.Ordinal);
    }
}
