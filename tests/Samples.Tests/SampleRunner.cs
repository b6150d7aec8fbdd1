using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace IpcChannel.Samples.Tests;

/// <summary>Runs a sample copied beside the tests (its apphost, or <c>dotnet sample.dll</c>) to the end.</summary>
internal static class SampleRunner
{
    /// <summary>Runs <paramref name="sample"/> with <paramref name="arguments"/>, asserts it exits with 0, and returns its standard output.</summary>
    /// <param name="sample">The sample's assembly name.</param>
    /// <param name="timeout">How long it may run.</param>
    /// <param name="arguments">Its command-line arguments.</param>
    /// <param name="removeVariables">Environment variables it must not inherit from the test process.</param>
    /// <returns>Its standard output.</returns>
    public static async Task<string> RunToSuccessAsync(string sample, TimeSpan timeout, string[]? arguments = null, string[]? removeVariables = null)
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, sample);
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (File.Exists(apphost))
        {
            start.FileName = apphost;
        }
        else
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, sample + ".dll"));
        }

        foreach (string argument in arguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string variable in removeVariables ?? [])
        {
            start.Environment.Remove(variable);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        string text = await output;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{text}\n{await errors}");
        return text;
    }
}
