using System;
using Xunit;

namespace IpcChannel.Transport.MacOS.Tests;

/// <summary>The transport refuses to start anywhere but macOS, with a clear exception instead of a crash in libSystem.</summary>
public class PlatformGuardTests
{
    [Fact]
    public void Instance_OutsideMacOS_ThrowsPlatformNotSupported()
    {
        if (OperatingSystem.IsMacOS())
        {
            Assert.Equal("macos", MacTransport.Instance.Name);
            return;
        }

#pragma warning disable CA1416 // The point of the test: calling it elsewhere must throw.
        PlatformNotSupportedException error = Assert.Throws<PlatformNotSupportedException>(() => MacTransport.Instance);
#pragma warning restore CA1416
        Assert.Contains("macOS", error.Message, StringComparison.Ordinal);
    }
}
