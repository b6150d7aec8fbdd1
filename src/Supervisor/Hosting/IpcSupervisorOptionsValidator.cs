using System;
using System.Collections.Generic;
using Microsoft.Extensions.Options;

namespace IpcChannel.Supervisor.Hosting;

/// <summary>Validates the supervisor's options; every failure names the option.</summary>
internal sealed class IpcSupervisorOptionsValidator : IValidateOptions<IpcSupervisorOptions>
{
    public ValidateOptionsResult Validate(string? name, IpcSupervisorOptions options)
    {
        var failures = new List<string>();
        const string Prefix = "IpcSupervisorOptions";
        if (options.MaxRestarts < 0)
        {
            failures.Add($"{Prefix}: MaxRestarts must be 0 or more, not {options.MaxRestarts}.");
        }

        if (options.RestartPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}: RestartPeriod must be positive, not {options.RestartPeriod}.");
        }

        if (options.BackoffInitial < TimeSpan.Zero || options.BackoffMax < options.BackoffInitial)
        {
            failures.Add($"{Prefix}: BackoffInitial ({options.BackoffInitial}) must be 0 or more and at most BackoffMax ({options.BackoffMax}).");
        }

        if (options.BackoffResetAfter <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}: BackoffResetAfter must be positive, not {options.BackoffResetAfter}.");
        }

        if (options.BackoffJitter is < 0 or > 1 || double.IsNaN(options.BackoffJitter))
        {
            failures.Add($"{Prefix}: BackoffJitter must be between 0 and 1, not {options.BackoffJitter}.");
        }

        if (options.GiveUpExitCode is < 1 or > 255)
        {
            failures.Add($"{Prefix}: GiveUpExitCode must be between 1 and 255, not {options.GiveUpExitCode}.");
        }

        if (!Enum.IsDefined(options.Strategy))
        {
            failures.Add($"{Prefix}: Strategy must be OneForOne, OneForAll or RestForOne, not {options.Strategy}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
