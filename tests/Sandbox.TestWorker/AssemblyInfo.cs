using System.Runtime.Versioning;

// The sandbox is Linux-only, and so is its test worker.
[assembly: SupportedOSPlatform("linux")]
