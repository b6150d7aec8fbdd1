using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor;
using Microsoft.Extensions.Hosting;

namespace SandboxedDecoder;

/// <summary>
/// The parent's work (it runs in the parent only). With <c>--demo</c>: sends the decoder good images, a malformed
/// one, and three hostile ones (a header that asks for 900 MB, a "save a copy" outside the worker's directory, a
/// nesting bomb), checks that each had the expected outcome, prints a summary and stops the app (exit 0 when all
/// went as expected). Otherwise: decodes the files named on the command line.
/// </summary>
public sealed class DemoDriver(IpcWorkerClient<DecodeRequest, DecodeResult> decoder, IHostApplicationLifetime lifetime) : BackgroundService
{
    private enum Outcome
    {
        Decoded,
        Rejected,
        Crashed,
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string[] args = Environment.GetCommandLineArgs().Skip(1).ToArray();
        int unexpected = 0;
        try
        {
            if (args.Contains("--demo"))
            {
                unexpected = await DemoAsync(stoppingToken);
            }
            else if (args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray() is { Length: > 0 } files)
            {
                foreach (string file in files)
                {
                    await DecodeAsync(Path.GetFileName(file), await File.ReadAllBytesAsync(file, stoppingToken), stoppingToken);
                }
            }
            else
            {
                Console.WriteLine("usage: SandboxedDecoder --demo | SandboxedDecoder FILE.timg...");
                unexpected = 1;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        Environment.ExitCode = unexpected == 0 ? 0 : 1;
        lifetime.StopApplication();
    }

    private async Task<int> DemoAsync(CancellationToken stoppingToken)
    {
        string escape = Path.Combine(Path.GetTempPath(), $"sandboxed-decoder-escape-{Environment.ProcessId}.bin");
        byte[] sunrise = TinyImage.Build(64, 48, TinyImage.Gradient(64 * 48));
        var inputs = new List<(string Name, byte[] Data, Outcome Expected)>
        {
            ("sunrise.timg", sunrise, Outcome.Decoded),
            ("truncated.timg", sunrise[..20], Outcome.Rejected),
            ("huge.timg", TinyImage.Build(30000, 30000, TinyImage.Gradient(100)), Outcome.Crashed),
            ("tiles.timg", TinyImage.Build(32, 32, TinyImage.Gradient(32 * 32)), Outcome.Decoded),
            ("sneaky.timg", TinyImage.Build(8, 8, TinyImage.Gradient(64), TinyImage.Chunk('S', Encoding.UTF8.GetBytes(escape))), Outcome.Rejected),
            ("deep.timg", TinyImage.Build(4, 4, TinyImage.Nested(300_000)), Outcome.Crashed),
            ("sunset.timg", TinyImage.Build(48, 64, TinyImage.Gradient(48 * 64)), Outcome.Decoded),
        };

        int unexpected = 0;
        var counts = new Dictionary<Outcome, int>();
        foreach ((string name, byte[] data, Outcome expected) in inputs)
        {
            Outcome outcome = await DecodeAsync(name, data, stoppingToken);
            counts[outcome] = counts.GetValueOrDefault(outcome) + 1;
            if (outcome != expected)
            {
                Console.WriteLine($"demo: UNEXPECTED: {name} was {outcome}, expected {expected}");
                unexpected++;
            }
        }

        if (File.Exists(escape))
        {
            Console.WriteLine($"demo: UNEXPECTED: the decoder wrote {escape} outside its sandbox");
            File.Delete(escape);
            unexpected++;
        }
        else
        {
            Console.WriteLine($"demo: {escape} does not exist: the sandbox kept the decoder's write out");
        }

        Console.WriteLine(
            $"demo: done: {counts.GetValueOrDefault(Outcome.Decoded)} decoded, {counts.GetValueOrDefault(Outcome.Rejected)} rejected, "
            + $"{counts.GetValueOrDefault(Outcome.Crashed)} crashes survived, decoder restarted {decoder.Status.Restarts} times, {unexpected} unexpected");
        return unexpected;
    }

    private async Task<Outcome> DecodeAsync(string name, byte[] data, CancellationToken stoppingToken)
    {
        try
        {
            DecodeResult result = await decoder.RequestAsync(new DecodeRequest(name, data), TimeSpan.FromSeconds(60), stoppingToken);
            Console.WriteLine($"demo: decoded {name}: {result.Width}x{result.Height}, checksum {result.Checksum} (decoder pid {decoder.Status.Pid}, incarnation {decoder.Status.Incarnation})");
            return Outcome.Decoded;
        }
        catch (IpcWorkerRequestException e)
        {
            Console.WriteLine($"demo: rejected {name}: {e.RemoteType}: {e.RemoteMessage}");
            return Outcome.Rejected;
        }
        catch (IpcWorkerCrashedException e)
        {
            Console.WriteLine($"demo: {name} crashed the decoder (incarnation {e.Incarnation}: {e.Reason}); the supervisor restarts it");
            return Outcome.Crashed;
        }
    }
}
