using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Whether a host user (not root, with one group) may reach a path, judged from the owner, group and mode bits of the
/// path and every directory above it — what the kernel checks for a process of that user that holds no capability
/// over those files (a worker is root only in its own user namespace, which does not own the host's files). Access
/// control lists are not read, so a path they open is reported unreachable (the cautious answer).
/// </summary>
internal static class UserAccess
{
    /// <summary>Read permission.</summary>
    public const int Read = 4;

    /// <summary>Write permission.</summary>
    public const int Write = 2;

    /// <summary>Execute permission (search, for a directory).</summary>
    public const int Execute = 1;

    /// <summary>Finds why <paramref name="userId"/> cannot use <paramref name="path"/> with the rights <paramref name="access"/>.</summary>
    /// <param name="path">An absolute path; symbolic links in it are resolved first.</param>
    /// <param name="userId">The host user ID.</param>
    /// <param name="groupId">Its only group.</param>
    /// <param name="access">The rights the path itself needs (<see cref="Read"/>, <see cref="Write"/>, <see cref="Execute"/>); every directory above it needs search.</param>
    /// <returns>null when it can; otherwise which path lacks which right.</returns>
    public static unsafe string? FindProblem(string path, int userId, int groupId, int access)
    {
        string? real = RealPath(path);
        if (real is null)
        {
            return $"{path} does not exist";
        }

        var steps = new List<(string Path, int Access)>();
        for (string? directory = Path.GetDirectoryName(real); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            steps.Add((directory, Execute));
        }

        steps.Reverse();
        steps.Add((real, access));
        foreach ((string step, int needed) in steps)
        {
            Interop.Stat.StatxBuffer info;
            if (Interop.Statx(Interop.AT_FDCWD, step, 0, Interop.Stat.STATX_MODE | Interop.Stat.STATX_UID | Interop.Stat.STATX_GID, &info) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return $"{step} cannot be examined ({Errors.Name(errno)})";
            }

            int mode = info.stx_mode & 0x1FF;
            int granted = info.stx_uid == (uint)userId ? mode >> 6 : info.stx_gid == (uint)groupId ? (mode >> 3) & 7 : mode & 7;
            if ((granted & needed) != needed)
            {
                return $"{step} (owner {info.stx_uid}, group {info.stx_gid}, mode {Convert.ToString(mode, 8)}) does not let user {userId} {Describe(needed)} it";
            }
        }

        return null;
    }

    private static string Describe(int access) => access switch
    {
        Execute => "search",
        Read => "read",
        Read | Execute => "read and execute",
        _ => $"access ({access}) to",
    };

    private static string? RealPath(string path)
    {
        nint resolved = Interop.Realpath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Interop.Free(resolved);
        }
    }
}
