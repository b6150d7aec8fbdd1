using System;
using Xunit;

namespace IpcChannel.Transport.MacOS.Tests.Support;

/// <summary>A fact that needs the Mach kernel: reported as skipped ("requires macOS") anywhere else, never as passed.</summary>
public sealed class MacOSFactAttribute : FactAttribute
{
    /// <summary>Marks the test as skipped unless this is macOS.</summary>
    public MacOSFactAttribute()
    {
        if (!OperatingSystem.IsMacOS())
        {
            Skip = "requires macOS";
        }
    }
}
