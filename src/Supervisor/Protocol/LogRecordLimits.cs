using System;

namespace IpcChannel.Supervisor.Protocol;

/// <summary>
/// How large a forwarded log record may be. The worker cuts its records to these lengths before it sends them, so
/// that each fits well inside <see cref="MaxControlMessageSize"/>; the parent cuts again, since a worker is not trusted
/// to.
/// </summary>
internal static class LogRecordLimits
{
    /// <summary>The largest message on a worker's control connection (hello aside): records cut to the lengths below
    /// take at most about 0.5 MiB in UTF-8, pongs and link senders a few bytes.</summary>
    public const int MaxControlMessageSize = 1 << 20;

    /// <summary>The longest message text, in UTF-16 code units.</summary>
    public const int MaxMessageLength = 32 * 1024;

    /// <summary>The longest exception text (type, message and stack trace), in UTF-16 code units.</summary>
    public const int MaxExceptionLength = 128 * 1024;

    /// <summary>The longest category name, in UTF-16 code units.</summary>
    public const int MaxCategoryLength = 256;

    private const string Cut = "…(truncated)";

    /// <summary><paramref name="text"/>, or its first <paramref name="maxLength"/> code units with a marker that it was cut.</summary>
    /// <param name="text">The text, or null.</param>
    /// <param name="maxLength">The longest result.</param>
    /// <returns>The text, cut if longer, never splitting a surrogate pair.</returns>
    public static string? Truncate(string? text, int maxLength)
    {
        if (text is null || text.Length <= maxLength)
        {
            return text;
        }

        int keep = maxLength - Cut.Length;
        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return string.Concat(text.AsSpan(0, keep), Cut);
    }
}
