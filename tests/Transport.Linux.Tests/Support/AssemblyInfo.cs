using System.Runtime.Versioning;

// The Linux transport's tests run on Linux only.
[assembly: SupportedOSPlatform("linux")]
