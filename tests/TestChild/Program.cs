using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace IpcChannel.TestChild;

/// <summary>
/// The helper program that cross-process tests spawn: <c>IpcChannel.TestChild &lt;scenario&gt; [args...]</c>.
/// Each scenario is a small, deterministic piece of the other side of a test. Exit code 0 means the scenario
/// ran to its end; anything else is a failure the test reports (stderr carries the exception).
/// </summary>
internal static class Program
{
    private static readonly Dictionary<string, Func<string[], Task<int>>> s_scenarios = new(StringComparer.Ordinal);

    private static async Task<int> Main(string[] args)
    {
        TransportScenarios.Register(s_scenarios);
        CoreScenarios.Register(s_scenarios);
        if (args.Length == 0 || !s_scenarios.TryGetValue(args[0], out Func<string[], Task<int>>? scenario))
        {
            await Console.Error.WriteLineAsync($"usage: IpcChannel.TestChild <scenario> [args]; scenarios: {string.Join(", ", s_scenarios.Keys)}").ConfigureAwait(false);
            return 64;
        }

        try
        {
            return await scenario(args[1..]).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"scenario {args[0]} failed: {e}").ConfigureAwait(false);
            return 70;
        }
    }
}
