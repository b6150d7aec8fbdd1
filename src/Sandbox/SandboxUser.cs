using System;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// The host user a launch runs as, chosen by the launcher (the supervisor assigns one per live worker from
/// <see cref="SandboxOptions.UserIdRange"/>): a distinct unprivileged user, or the launcher's own user with the reason
/// why, which <see cref="SandboxLauncher"/> turns into a warning of the plan.
/// </summary>
public sealed class SandboxUser
{
    private SandboxUser(int? userId, int? groupId, string? sharedReason)
    {
        UserId = userId;
        GroupId = groupId;
        SharedReason = sharedReason;
    }

    /// <summary>The user ID the worker runs as, or null when it shares the launcher's.</summary>
    public int? UserId { get; }

    /// <summary>The group ID the worker runs as, or null when it shares the launcher's.</summary>
    public int? GroupId { get; }

    /// <summary>Why the worker shares the launcher's user, or null when it has its own.</summary>
    public string? SharedReason { get; }

    /// <summary>A user of the worker's own.</summary>
    /// <param name="userId">The host user ID, which no other live worker has.</param>
    /// <param name="groupId">The host group ID (its only group).</param>
    /// <returns>The assignment.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An ID is not positive (0 is root).</exception>
    public static SandboxUser Distinct(int userId, int groupId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(userId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupId);
        return new SandboxUser(userId, groupId, null);
    }

    /// <summary>The launcher's own user, shared with it and its other workers.</summary>
    /// <param name="reason">Why no user of its own could be given (for the plan's warning).</param>
    /// <returns>The assignment.</returns>
    public static SandboxUser Shared(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        return new SandboxUser(null, null, reason);
    }
}
