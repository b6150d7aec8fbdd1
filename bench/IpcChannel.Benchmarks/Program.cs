using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;

namespace IpcChannel.Benchmarks;

/// <summary>
/// In-process BenchmarkDotNet figures (the cross-process ones are in bench/IpcChannel.Bench):
/// <code>dotnet run -c Release --project bench/IpcChannel.Benchmarks -- --filter '*'</code>
/// Add <c>--job short</c> for a quicker, rougher run.
/// </summary>
public static class Program
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default));
}
