using System.Runtime.Versioning;

// The sandbox is Linux-only, and so are its tests.
[assembly: SupportedOSPlatform("linux")]
