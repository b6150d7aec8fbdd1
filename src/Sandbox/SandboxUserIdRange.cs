using System.Collections.Generic;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// The host user IDs from which a root supervisor gives each live worker a user of its own (through setpriv(1), before
/// the worker's user namespace is made), so that the kernel's per-user accounting — descriptors in flight in
/// <c>SCM_RIGHTS</c> messages, <c>RLIMIT_NPROC</c>, pending signals — separates workers from each other and from the
/// supervisor. Part of <see cref="SandboxOptions.UserIdRange"/>.
/// </summary>
/// <remarks>
/// The IDs need no entry in <c>/etc/passwd</c>. The default, <see cref="DefaultFirst"/> to
/// <see cref="DefaultFirst"/> + <see cref="DefaultCount"/> - 1, lies in a range that systemd's UID allocation
/// (UIDS-GIDS.md) leaves unused — above the container range, below 2^31 — so it is unlikely to be a real user's.
/// Where the supervisor is not root, or <see cref="Count"/> is 0, workers run as the supervisor's user and
/// <see cref="SandboxedLaunch.Warnings"/> says so.
/// </remarks>
public sealed class SandboxUserIdRange
{
    /// <summary>The default of <see cref="First"/>: 2,000,000,000.</summary>
    public const int DefaultFirst = 2_000_000_000;

    /// <summary>The default of <see cref="Count"/>: 65,536 user IDs.</summary>
    public const int DefaultCount = 65_536;

    /// <summary>The first user ID of the range. Default <see cref="DefaultFirst"/>.</summary>
    public int First { get; set; } = DefaultFirst;

    /// <summary>
    /// How many user IDs the range holds, so at most how many workers run at once with a user of their own. Default
    /// <see cref="DefaultCount"/>; 0 turns per-worker users off (workers share the supervisor's user).
    /// </summary>
    public int Count { get; set; } = DefaultCount;

    /// <summary>
    /// The group every worker from this range runs as (its only group). It is the group that may reach the
    /// supervisor's bootstrap socket, so it must be no real group. Default <see langword="null"/>: the same number as
    /// <see cref="First"/>.
    /// </summary>
    public int? GroupId { get; set; }

    /// <summary>Whether per-worker users are asked for (<see cref="Count"/> above 0).</summary>
    public bool IsEnabled => Count > 0;

    /// <summary>The group workers run as: <see cref="GroupId"/>, or <see cref="First"/>.</summary>
    public int EffectiveGroupId => GroupId ?? First;

    /// <summary>Whether <paramref name="userId"/> is in the range.</summary>
    /// <param name="userId">A user ID.</param>
    /// <returns><see langword="true"/> when the range is enabled and holds it.</returns>
    public bool Contains(int userId) => IsEnabled && userId >= First && (long)userId < (long)First + Count;

    /// <summary>Checks the range.</summary>
    /// <param name="problems">Where each problem found is added.</param>
    internal void Validate(List<string> problems)
    {
        if (Count < 0)
        {
            problems.Add($"UserIdRange.Count must be 0 (off) or positive, not {Count}.");
            return;
        }

        if (Count == 0)
        {
            return;
        }

        // 0 is root; 65534/65535 are nobody and the 16-bit "no user"; IDs from 2^31 on are read as negative by many tools.
        if (First < 1 || (long)First + Count - 1 > int.MaxValue || (First <= 65535 && (long)First + Count - 1 >= 65534))
        {
            problems.Add($"UserIdRange: {First} to {(long)First + Count - 1} must lie within 1 to {int.MaxValue} and not hold 65534 (nobody) or 65535.");
        }

        if (GroupId is < 1)
        {
            problems.Add($"UserIdRange.GroupId must be positive (not root's group), not {GroupId}.");
        }
    }
}
