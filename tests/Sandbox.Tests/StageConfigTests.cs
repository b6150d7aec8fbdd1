using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

public sealed class StageConfigTests
{
    [Fact]
    public void EncodeDecode_RoundTripsPathsWithAnyCharacter()
    {
        var config = new StageConfig
        {
            Layers = SandboxLayers.Default,
            AllowMissing = SandboxLayers.Namespaces,
            WorkerDirectory = "/tmp/a dir/with,comma&amp=eq%25é",
            ReadOnlyPaths = ["/opt/x,y", "/srv/a&b", "/ü/€"],
            ReadWritePaths = [],
            TcpConnectPorts = [443, 8080],
            TcpBindPorts = [0],
            MaxOpenFiles = 10,
            MaxProcesses = null,
            MaxFileSizeBytes = 1L << 40,
            MaxGcHeapBytes = 64L << 20,
            InheritedFileDescriptors = [3, 7],
            Environment = ["PATH", "A_B"],
            SeccompDenyAction = SeccompDenyAction.KillProcess,
            AllowInternetSockets = true,
            AllowProcessCreation = true,
            Namespaces = SandboxNamespaces.Network | SandboxNamespaces.Mount,
            CgroupDirectory = "/sys/fs/cgroup/x",
        };

        StageConfig decoded = StageConfig.Decode(config.Encode());

        Assert.Equal(config.Encode(), decoded.Encode());
        Assert.Equal(config.WorkerDirectory, decoded.WorkerDirectory);
        Assert.Equal(config.ReadOnlyPaths, decoded.ReadOnlyPaths);
        Assert.Empty(decoded.ReadWritePaths);
        Assert.Equal(config.TcpConnectPorts, decoded.TcpConnectPorts);
        Assert.Null(decoded.MaxProcesses);
        Assert.Equal(config.MaxFileSizeBytes, decoded.MaxFileSizeBytes);
        Assert.Equal(config.InheritedFileDescriptors, decoded.InheritedFileDescriptors);
        Assert.Equal(config.Environment, decoded.Environment);
        Assert.Equal(config.SeccompDenyAction, decoded.SeccompDenyAction);
        Assert.True(decoded.AllowInternetSockets);
        Assert.True(decoded.AllowProcessCreation);
        Assert.False(StageConfig.Decode(new StageConfig { WorkerDirectory = "/w" }.Encode()).AllowProcessCreation);
        Assert.Equal(config.Namespaces, decoded.Namespaces);
        Assert.Equal(config.CgroupDirectory, decoded.CgroupDirectory);
    }

    [Theory]
    [InlineData("")]
    [InlineData("v=3&layers=1")]
    [InlineData("v=1&layers=x")]
    [InlineData("v=1&layers=1&missing=0")]
    [InlineData("garbage")]
    [InlineData("v=1&layers=%4")]
    public void Decode_Malformed_ThrowsSandboxException(string text) =>
        Assert.Throws<SandboxException>(() => StageConfig.Decode(text));

    /// <summary>Version 1 had no process-creation switch (a worker of it would allow fork): it is refused.</summary>
    [Fact]
    public void Decode_OlderVersions_AreRefused()
    {
        string current = new StageConfig { WorkerDirectory = "/w" }.Encode();
        Assert.StartsWith("v=3&", current, System.StringComparison.Ordinal);
        Assert.Throws<SandboxException>(() => StageConfig.Decode("v=1&" + current["v=3&".Length..]));
        Assert.Throws<SandboxException>(() => StageConfig.Decode("v=2&" + current["v=3&".Length..]));
    }
}
