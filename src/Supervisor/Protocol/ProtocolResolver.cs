using System;
using IpcChannel.Supervisor.Protocol.Formatters;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace IpcChannel.Supervisor.Protocol;

/// <summary>
/// Resolves the hand-written formatters of the supervisor's protocol types; everything else (the users'
/// message types) gets what IpcChannel's default contractless resolver gives it.
/// </summary>
/// <remarks>
/// A worker's start time is on the supervisor's critical path, so nothing here initialises MessagePack's standard
/// resolvers until a type needs them: their static constructors compile a regular expression and create a dynamic
/// assembly (40–60 ms of CPU on the project's VM). The protocol's own types never do; a message type MessagePack
/// has built in (string, numbers, arrays of them...) is taken from <see cref="BuiltinResolver"/>, which is the
/// first resolver <see cref="ContractlessStandardResolver"/> consults, so the result is the same formatter; any
/// other type falls through to <see cref="ContractlessStandardResolver"/> (the dynamic resolvers) on first use.
/// A string, the commonest payload, gets Builtin's string formatter without Builtin's table of a hundred
/// formatters being built.
/// </remarks>
internal sealed class ProtocolResolver : IFormatterResolver
{
    public static readonly ProtocolResolver Instance = new();

    /// <summary>The options of every supervisor channel: protocol formatters first, untrusted-data security (kept from the default).</summary>
    public static readonly IpcSerializerOptions Options = IpcSerializerOptions.Create(
        new MessagePackSerializerOptions(Instance).WithSecurity(MessagePackSecurity.UntrustedData));

    private ProtocolResolver()
    {
    }

    /// <summary>
    /// The options of one worker's data channels: <see cref="Options"/>, or, with the app's resolver for the worker's
    /// message types (<see cref="IpcWorkerOptions.UseMessageResolver"/>), that resolver first and this one behind it
    /// (the envelopes, then the built-in and contractless fallbacks for what the app's does not know).
    /// </summary>
    public static IpcSerializerOptions OptionsFor(IFormatterResolver? messages) => messages is null
        ? Options
        : IpcSerializerOptions.Create(
            new MessagePackSerializerOptions(CompositeResolver.Create(messages, Instance)).WithSecurity(MessagePackSecurity.UntrustedData));

    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter ?? Resolve<T>();

    /// <summary>
    /// Resolves, off the critical path, the formatters a worker with these message types will use with the data
    /// channels' options <paramref name="data"/> (the envelopes included, see <see cref="RegisterEnvelopes{TIn, TOut}"/>).
    /// </summary>
    public static void Warm<TIn, TOut>(IpcSerializerOptions data)
    {
        RegisterEnvelopes<TIn, TOut>();
        _ = Instance.GetFormatter<ControlUp>();
        _ = Instance.GetFormatter<ControlDown>();
        _ = data.MessagePackOptions.Resolver.GetFormatter<TIn>();
        _ = data.MessagePackOptions.Resolver.GetFormatter<TOut>();
    }

    /// <summary>
    /// Registers the formatters of the envelopes of these message types: both sides call it before they create or
    /// receive a data channel (the parent's slot when it is registered, the child's connection before it opens). They
    /// are created here as statically typed code and never at run time, which NativeAOT could not do for an envelope
    /// of a value-type message.
    /// </summary>
    public static void RegisterEnvelopes<TIn, TOut>()
    {
        Cache<DownEnvelope<TIn>>.Formatter ??= new DownEnvelopeFormatter<TIn>();
        Cache<UpEnvelope<TOut>>.Formatter ??= new UpEnvelopeFormatter<TOut>();
    }

    private static IMessagePackFormatter<T>? Resolve<T>()
    {
        Type type = typeof(T);
        if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(DownEnvelope<>) || type.GetGenericTypeDefinition() == typeof(UpEnvelope<>)))
        {
            throw new InvalidOperationException($"The supervisor's formatter for {type} was not registered (ProtocolResolver.RegisterEnvelopes).");
        }

        // Racing threads compute equivalent (stateless) formatters; whichever is stored last is as good. A type no
        // resolver knows gets null (MessagePack then reports it), looked up again next time.
        return Cache<T>.Formatter =
            type == typeof(ControlUp) ? (IMessagePackFormatter<T>)(object)new ControlUpFormatter()
            : type == typeof(ControlDown) ? (IMessagePackFormatter<T>)(object)new ControlDownFormatter()
            : type == typeof(string) ? (IMessagePackFormatter<T>)(object)NullableStringFormatter.Instance
            : BuiltinResolver.Instance.GetFormatter<T>() ?? ContractlessStandardResolver.Instance.GetFormatter<T>();
    }

    /// <summary>One formatter per type, set once known.</summary>
    private static class Cache<T>
    {
        public static IMessagePackFormatter<T>? Formatter;
    }
}
