using System;
using System.IO;

namespace IpcChannel.Supervisor.Tests.Support;

/// <summary>Where the test host app was copied (next to the tests).</summary>
public static class TestPaths
{
    public static string Apphost => Path.Combine(AppContext.BaseDirectory, "IpcChannel.Supervisor.TestHost");

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "IpcChannel.Supervisor.TestHost.dll");
}
