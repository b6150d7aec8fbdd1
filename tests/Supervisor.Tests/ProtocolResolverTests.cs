using System;
using System.Collections.Generic;
using IpcChannel.Supervisor.Protocol;
using IpcChannel.Supervisor.TestHost;
using MessagePack;
using MessagePack.Resolvers;
using Xunit;

namespace IpcChannel.Supervisor.Tests;

/// <summary>The protocol resolver defers MessagePack's standard resolvers, but gives users' types the same formatters.</summary>
public class ProtocolResolverTests
{
    [Fact]
    public void UserTypes_GetTheFormattersOfTheDefaultContractlessResolver()
    {
        AssertSameAsContractless<string>();
        AssertSameAsContractless<int>();
        AssertSameAsContractless<long[]>();
        AssertSameAsContractless<List<string>>();
        AssertSameAsContractless<Dictionary<string, int>>();
        AssertSameAsContractless<DateTime>();
        AssertSameAsContractless<Guid>();
        AssertSameAsContractless<ProbeCommand>();
    }

    [Fact]
    public void Options_KeepUntrustedDataSecurity_AndRoundTripAUserRecord()
    {
        MessagePackSerializerOptions options = ProtocolResolver.Options.MessagePackOptions;
        Assert.Same(MessagePackSecurity.UntrustedData, options.Security);
        Assert.Equal(int.MaxValue, ProtocolResolver.Options.MaxMessageSize);

        var command = new ProbeCommand("echo", "hi", 3);
        byte[] bytes = MessagePackSerializer.Serialize(command, options);
        Assert.Equal(command, MessagePackSerializer.Deserialize<ProbeCommand>(bytes, options));
        Assert.Equal(MessagePackSerializer.Serialize(command, ContractlessStandardResolver.Options), bytes);
    }

    /// <summary>A message type no worker in this process uses, so no slot or connection registered its envelopes.</summary>
    public sealed record Unregistered(int Value);

    [Fact]
    public void Envelopes_AreOnlyEverTheRegisteredStaticallyTypedFormatters()
    {
        // Never built at run time (NativeAOT could not, for a value-type message) nor left to the contractless
        // resolver (a different wire format): an envelope nobody registered is a bug, reported as one.
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => ProtocolResolver.Instance.GetFormatter<DownEnvelope<Unregistered>>());
        Assert.Contains("RegisterEnvelopes", error.Message);

        ProtocolResolver.RegisterEnvelopes<Unregistered, int>();
        Assert.IsType<IpcChannel.Supervisor.Protocol.Formatters.DownEnvelopeFormatter<Unregistered>>(ProtocolResolver.Instance.GetFormatter<DownEnvelope<Unregistered>>());
        Assert.IsType<IpcChannel.Supervisor.Protocol.Formatters.UpEnvelopeFormatter<int>>(ProtocolResolver.Instance.GetFormatter<UpEnvelope<int>>());

        var envelope = new DownEnvelope<Unregistered>(DownKind.Request, 7, new Unregistered(3));
        byte[] bytes = MessagePackSerializer.Serialize(envelope, ProtocolResolver.Options.MessagePackOptions);
        Assert.Equal(envelope, MessagePackSerializer.Deserialize<DownEnvelope<Unregistered>>(bytes, ProtocolResolver.Options.MessagePackOptions));
    }

    private static void AssertSameAsContractless<T>()
    {
        object? ours = ProtocolResolver.Instance.GetFormatter<T>();
        object? theirs = ContractlessStandardResolver.Instance.GetFormatter<T>();
        Assert.NotNull(ours);
        Assert.Equal(theirs!.GetType(), ours!.GetType());
    }
}
