using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Sandbox.Tests.Support;
using IpcChannel.Supervisor.Sandbox;
using Xunit;
using Xunit.Abstractions;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// What the sandbox costs at start: a worker that does nothing, launched plain, with the two stages (one extra
/// runtime start), and with the namespaces too. The suite runs a few rounds; set SANDBOX_COST_ROUNDS for a real
/// measurement (docs/sandbox.md has one).
/// </summary>
public sealed class StartCostTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task StartCost_OfTheTwoStagesAndTheNamespaces_IsMeasured()
    {
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("SANDBOX_COST_ROUNDS"), CultureInfo.InvariantCulture, out int r) ? r : 3;
        var modes = new (string Name, SandboxOptions Options)[]
        {
            ("sandbox off", SandboxedWorker.Off()),
            ("two stages, no namespaces", SandboxedWorker.Strict(o => o.Layers &= ~(SandboxLayers.Namespaces | SandboxLayers.PrivateRoot))),
            ("two stages + namespaces, no private root", SandboxedWorker.Strict(o => o.Layers &= ~SandboxLayers.PrivateRoot)),
            ("two stages + namespaces + private root (default)", SandboxedWorker.Strict()),
        };
        var times = modes.ToDictionary(m => m.Name, _ => new List<double>());

        // Warm the page cache and the JIT'd host once, then interleave the modes so that load hits them alike.
        await SandboxedWorker.RunAsync(SandboxedWorker.Off(), "noop");
        for (int round = 0; round < rounds; round++)
        {
            foreach ((string name, SandboxOptions options) in modes)
            {
                WorkerRun run = await SandboxedWorker.RunAsync(options, "noop");
                Assert.True(run.ExitCode == 0, run.ToString());
                times[name].Add(run.Elapsed.TotalMilliseconds);
            }
        }

        foreach ((string name, List<double> samples) in times)
        {
            samples.Sort();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-50} median {samples[samples.Count / 2],7:F1} ms  min {samples[0],7:F1} ms  max {samples[^1],7:F1} ms  (n={samples.Count})"));
        }
    }
}
