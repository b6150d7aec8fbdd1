using Xunit;

namespace IpcChannel.Core.Tests.Helpers;

/// <summary>
/// Tests that count this process's descriptors or mappings: they run alone (after the parallel tests), so
/// no other test opens or closes descriptors while they measure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdSensitiveCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Descriptor-counting tests (not parallel)";
}
