namespace SandboxedDecoder;

/// <summary>Untrusted bytes to decode, with a name for the logs.</summary>
public sealed record DecodeRequest(string Name, byte[] Data);

/// <summary>What the decoder made of them.</summary>
public sealed record DecodeResult(string Name, int Width, int Height, string Checksum);
