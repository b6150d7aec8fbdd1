using System;
using System.Collections.Generic;
using System.Diagnostics.Contracts;
using System.Linq;

namespace IpcChannel.Supervisor;

/// <summary>
/// Everything needed to start one worker process: program, arguments, environment, working directory, and a
/// prefix (a command the program runs under, such as <c>unshare</c> or a sandbox's first stage). Immutable:
/// every <c>With*</c> returns a changed copy. Launch filters (<see cref="IIpcWorkerLaunchFilter"/>) rewrite it
/// before each launch; that is where a sandbox plugs in.
/// </summary>
public sealed class IpcWorkerLaunchSpec
{
    /// <summary>Creates a spec.</summary>
    /// <param name="program">The program's path.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <exception cref="ArgumentException">The program is empty.</exception>
    public IpcWorkerLaunchSpec(string program, IEnumerable<string>? arguments = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        Program = program;
        Arguments = arguments?.ToArray() ?? [];
    }

    private IpcWorkerLaunchSpec(IpcWorkerLaunchSpec other)
    {
        Program = other.Program;
        Arguments = other.Arguments;
        Environment = other.Environment;
        InheritEnvironment = other.InheritEnvironment;
        WorkingDirectory = other.WorkingDirectory;
        Prefix = other.Prefix;
    }

    /// <summary>The program to run.</summary>
    public string Program { get; private init; }

    /// <summary>Its arguments.</summary>
    public IReadOnlyList<string> Arguments { get; private init; }

    /// <summary>Environment variables set for the worker (a null value removes an inherited one).</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; private init; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>Whether the worker starts from this process's environment (true) or from <see cref="Environment"/> alone.</summary>
    public bool InheritEnvironment { get; private init; } = true;

    /// <summary>The working directory; null is this process's.</summary>
    public string? WorkingDirectory { get; private init; }

    /// <summary>A command line that runs the program (for example <c>unshare --user --net --</c>); empty by default.</summary>
    public IReadOnlyList<string> Prefix { get; private init; } = [];

    /// <summary>The file actually executed: the prefix's first word, or the program.</summary>
    public string FileName => Prefix.Count > 0 ? Prefix[0] : Program;

    /// <summary>The arguments actually passed to <see cref="FileName"/>: the rest of the prefix, the program, its arguments.</summary>
    public IReadOnlyList<string> FullArguments => Prefix.Count > 0 ? [.. Prefix.Skip(1), Program, .. Arguments] : Arguments;

    /// <summary>Returns a copy running another program.</summary>
    /// <param name="program">The program.</param>
    /// <returns>The copy.</returns>
    [Pure]
    public IpcWorkerLaunchSpec WithProgram(string program)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        return new(this) { Program = program };
    }

    /// <summary>Returns a copy with other arguments.</summary>
    /// <param name="arguments">The arguments.</param>
    /// <returns>The copy.</returns>
    [Pure]
    public IpcWorkerLaunchSpec WithArguments(IEnumerable<string> arguments) => new(this) { Arguments = arguments.ToArray() };

    /// <summary>Returns a copy with one environment variable set (null removes it).</summary>
    /// <param name="name">The variable.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The copy.</returns>
    [Pure]
    public IpcWorkerLaunchSpec WithEnvironmentVariable(string name, string? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var environment = new Dictionary<string, string?>(Environment, StringComparer.Ordinal) { [name] = value };
        return new(this) { Environment = environment };
    }

    /// <summary>Returns a copy whose environment is exactly <paramref name="environment"/> when <paramref name="inherit"/> is false
    /// (a reduced environment), or this process's plus it when true.</summary>
    /// <param name="environment">The variables.</param>
    /// <param name="inherit">Whether this process's environment is inherited.</param>
    /// <returns>The copy.</returns>
    [Pure]
    public IpcWorkerLaunchSpec WithEnvironment(IReadOnlyDictionary<string, string?> environment, bool inherit) =>
        new(this) { Environment = new Dictionary<string, string?>(environment, StringComparer.Ordinal), InheritEnvironment = inherit };

    /// <summary>Returns a copy with another working directory.</summary>
    /// <param name="workingDirectory">The directory, or null for this process's.</param>
    /// <returns>The copy.</returns>
    [Pure]
    public IpcWorkerLaunchSpec WithWorkingDirectory(string? workingDirectory) => new(this) { WorkingDirectory = workingDirectory };

    /// <summary>Returns a copy run under <paramref name="prefix"/> (replacing any prefix).</summary>
    /// <param name="prefix">The prefix command line, e.g. <c>["unshare", "--net", "--"]</c>.</param>
    /// <returns>The copy.</returns>
    [Pure]
    public IpcWorkerLaunchSpec WithPrefix(IEnumerable<string> prefix) => new(this) { Prefix = prefix.ToArray() };

    /// <inheritdoc/>
    public override string ToString() => string.Join(' ', new[] { FileName }.Concat(FullArguments));
}
