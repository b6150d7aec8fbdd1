using System;
using System.Collections.Generic;
using System.Linq;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// How a worker process is started: <see cref="Prefix"/> (a launcher such as unshare(1), may be empty), then
/// <see cref="Program"/> and <see cref="Arguments"/>, with <see cref="Environment"/> in
/// <see cref="WorkingDirectory"/>. The supervisor's launch spec maps onto this one field for field.
/// </summary>
/// <param name="Program">The worker program (an apphost, or <c>dotnet</c> followed by the dll in the arguments).</param>
/// <param name="Arguments">The program's arguments.</param>
/// <param name="Environment">
/// As an input: the variables the supervisor sets for the worker (always kept). As an output of
/// <see cref="SandboxLauncher.Plan(SandboxOptions, SandboxLaunchSpec, string, SandboxMachine, IReadOnlyDictionary{string, string})"/>:
/// the worker's complete environment; start it with exactly these variables and no others.
/// </param>
/// <param name="WorkingDirectory">The working directory, or <see langword="null"/> for the supervisor's.</param>
/// <param name="Prefix">Launcher words placed before <see cref="Program"/>; empty for none.</param>
public sealed record SandboxLaunchSpec(
    string Program,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string? WorkingDirectory,
    IReadOnlyList<string> Prefix)
{
    /// <summary>Creates a spec with no environment, working directory or prefix.</summary>
    /// <param name="program">The worker program.</param>
    /// <param name="arguments">Its arguments.</param>
    public SandboxLaunchSpec(string program, IReadOnlyList<string> arguments)
        : this(program, arguments, new Dictionary<string, string>(StringComparer.Ordinal), null, Array.Empty<string>())
    {
    }

    /// <summary>
    /// The name of a variable of <see cref="Environment"/> that holds the name of an IpcChannel server (an
    /// <c>IpcServer&lt;T&gt;</c> or <c>IpcOneShotServer&lt;T&gt;</c>) the worker talks to, or <see langword="null"/>.
    /// When set, the sandbox's first stage connects to that server before it confines the worker, and
    /// <see cref="SandboxStatus.Connection"/> hands the connected socket to the worker: a sandboxed worker never
    /// connects by name itself (the private root hides the socket, and seccomp refuses <c>connect</c>).
    /// </summary>
    public string? ServerVariable { get; init; }

    /// <summary>The file to execute: the first word of <see cref="Prefix"/>, or <see cref="Program"/>.</summary>
    public string FileName => Prefix.Count > 0 ? Prefix[0] : Program;

    /// <summary>The arguments to pass to <see cref="FileName"/>: the rest of the prefix, the program, its arguments.</summary>
    public IReadOnlyList<string> FileArguments =>
        Prefix.Count > 0 ? Prefix.Skip(1).Append(Program).Concat(Arguments).ToArray() : Arguments;
}
