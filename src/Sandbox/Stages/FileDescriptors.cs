using System;
using System.Collections.Generic;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>Makes sure the real worker inherits only descriptors 0-2 and the ones it was given.</summary>
internal static class FileDescriptors
{
    /// <summary>Marks every descriptor above 2 close-on-exec, except <paramref name="keep"/>.</summary>
    /// <param name="keep">Descriptors the worker was given.</param>
    /// <exception cref="SandboxException">close_range failed (it needs Linux 5.11).</exception>
    public static void MarkCloseOnExec(IReadOnlyList<int> keep)
    {
        var sorted = new List<int>(keep.Count);
        foreach (int fd in keep)
        {
            if (fd >= 3 && !sorted.Contains(fd))
            {
                sorted.Add(fd);
            }
        }

        sorted.Sort();
        uint first = 3;
        foreach (int fd in sorted)
        {
            if ((uint)fd > first)
            {
                CloseRange(first, (uint)fd - 1);
            }

            first = (uint)fd + 1;
        }

        CloseRange(first, uint.MaxValue);
    }

    private static void CloseRange(uint first, uint last)
    {
        long result = Interop.Syscall(Interop.SYS_close_range, (nint)first, (nint)last, (nint)Interop.CLOSE_RANGE_CLOEXEC);
        if (result != 0)
        {
            throw Errors.Last(SandboxLayers.CleanStart, $"close_range({first}, {last}, CLOSE_RANGE_CLOEXEC)");
        }
    }
}
