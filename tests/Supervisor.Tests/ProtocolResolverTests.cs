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

    [Fact]
    public void OptionsFor_PutsTheAppsResolverFirst_ThenTheProtocolsAndTheFallbacks()
    {
        Assert.Same(ProtocolResolver.Options, ProtocolResolver.OptionsFor(null));

        IpcSerializerOptions options = ProtocolResolver.OptionsFor(IpcChannel.Supervisor.AotWorker.PointResolver.Instance);
        IFormatterResolver resolver = options.MessagePackOptions.Resolver;
        Assert.Same(IpcChannel.Supervisor.AotWorker.PointResolver.Instance.GetFormatter<IpcChannel.Supervisor.AotWorker.Point>(),
            resolver.GetFormatter<IpcChannel.Supervisor.AotWorker.Point>());
        ProtocolResolver.RegisterEnvelopes<IpcChannel.Supervisor.AotWorker.Point, string>();
        Assert.IsType<IpcChannel.Supervisor.Protocol.Formatters.DownEnvelopeFormatter<IpcChannel.Supervisor.AotWorker.Point>>(
            resolver.GetFormatter<DownEnvelope<IpcChannel.Supervisor.AotWorker.Point>>());
        Assert.Equal(ContractlessStandardResolver.Instance.GetFormatter<ProbeCommand>()!.GetType(), resolver.GetFormatter<ProbeCommand>()!.GetType());
        Assert.Same(MessagePackSecurity.UntrustedData, options.MessagePackOptions.Security);

        // The point travels inside an envelope as the app's formatter writes it: [x, y, label].
        var envelope = new DownEnvelope<IpcChannel.Supervisor.AotWorker.Point>(DownKind.Message, 0, new(1, 2, "a"));
        byte[] bytes = MessagePackSerializer.Serialize(envelope, options.MessagePackOptions);
        Assert.Equal(envelope, MessagePackSerializer.Deserialize<DownEnvelope<IpcChannel.Supervisor.AotWorker.Point>>(bytes, options.MessagePackOptions));
        Assert.True(bytes.AsSpan().IndexOf(new byte[] { 0x93, 0x01, 0x02, 0xA1, (byte)'a' }) >= 0, Convert.ToHexString(bytes));
    }

    private static void AssertSameAsContractless<T>()
    {
        object? ours = ProtocolResolver.Instance.GetFormatter<T>();
        object? theirs = ContractlessStandardResolver.Instance.GetFormatter<T>();
        Assert.NotNull(ours);
        Assert.Equal(theirs!.GetType(), ours!.GetType());
    }
}
