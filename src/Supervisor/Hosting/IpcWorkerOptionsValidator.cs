using System;
using System.Collections.Generic;
using Microsoft.Extensions.Options;

namespace IpcChannel.Supervisor.Hosting;

/// <summary>Validates each worker's options; every failure names the worker and the option.</summary>
internal sealed class IpcWorkerOptionsValidator : IValidateOptions<IpcWorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, IpcWorkerOptions options)
    {
        var failures = new List<string>();
        string prefix = $"IpcWorkerOptions of worker '{name}'";
        Positive(nameof(options.StartTimeout), options.StartTimeout);
        if (options.StopTimeout < TimeSpan.Zero && options.StopTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{prefix}: StopTimeout must be zero (SIGKILL at once, OTP brutal_kill), positive, or Timeout.InfiniteTimeSpan (wait as long as it takes, OTP infinity), not {options.StopTimeout}.");
        }

        Positive(nameof(options.TerminateTimeout), options.TerminateTimeout);
        Positive(nameof(options.UnavailableTimeout), options.UnavailableTimeout);
        Positive(nameof(options.RequestTimeout), options.RequestTimeout);
        if (options.HeartbeatInterval < TimeSpan.Zero)
        {
            failures.Add($"{prefix}: HeartbeatInterval must be zero (off) or positive, not {options.HeartbeatInterval}.");
        }
        else if (options.HeartbeatInterval > TimeSpan.Zero && options.HeartbeatTimeout <= options.HeartbeatInterval)
        {
            failures.Add($"{prefix}: HeartbeatTimeout ({options.HeartbeatTimeout}) must be longer than HeartbeatInterval ({options.HeartbeatInterval}).");
        }

        if (options.InboxCapacity < 1)
        {
            failures.Add($"{prefix}: InboxCapacity must be at least 1, not {options.InboxCapacity}.");
        }

        if (options.MaxMessageSize < 1)
        {
            failures.Add($"{prefix}: MaxMessageSize must be at least 1 byte, not {options.MaxMessageSize}.");
        }

        if (options.MaxLogRecordsPerSecond < 1)
        {
            failures.Add($"{prefix}: MaxLogRecordsPerSecond must be at least 1, not {options.MaxLogRecordsPerSecond}.");
        }

        if (options.Executable is { Length: 0 })
        {
            failures.Add($"{prefix}: Executable must be null (relaunch this app) or a path, not empty.");
        }

        if (!Enum.IsDefined(options.Restart))
        {
            failures.Add($"{prefix}: Restart must be Permanent, Transient or Temporary, not {options.Restart}.");
        }

        foreach (string problem in options.Sandbox.Validate())
        {
            failures.Add($"{prefix}: Sandbox: {problem}");
        }

        if (options.Sandbox.Enabled && options.Sandbox.RunAsUserId is not null)
        {
            failures.Add($"{prefix}: Sandbox.RunAsUserId is not supported by the supervisor, which gives each live worker a user of its own from Sandbox.UserIdRange instead (one fixed user would be shared by restarts and standbys).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(string option, TimeSpan value)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{prefix}: {option} must be positive, not {value}.");
            }
        }
    }
}
