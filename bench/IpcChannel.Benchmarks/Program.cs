using System;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;

namespace IpcChannel.Benchmarks;

/// <summary>
/// In-process BenchmarkDotNet figures (the cross-process ones are in bench/IpcChannel.Bench):
/// <code>dotnet run -c Release --project bench/IpcChannel.Benchmarks -- --filter '*'</code>
/// Add <c>--job short</c> for a quicker, rougher run, and <c>--inProcess</c> to skip building the generated
/// project (useful on a busy machine). The build timeout is raised from BenchmarkDotNet's 2 minutes: on a
/// shared 2-vCPU machine the generated project's build alone can take longer.
/// </summary>
public static class Program
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(
            args,
            DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default).WithBuildTimeout(TimeSpan.FromMinutes(10)));
}
