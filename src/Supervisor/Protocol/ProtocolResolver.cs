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

    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

    /// <summary>Resolves, off the critical path, the formatters a worker with these message types will use.</summary>
    public static void Warm<TIn, TOut>()
    {
        _ = Instance.GetFormatter<ControlUp>();
        _ = Instance.GetFormatter<ControlDown>();
        _ = Instance.GetFormatter<DownEnvelope<TIn>>();
        _ = Instance.GetFormatter<UpEnvelope<TOut>>();
        _ = Instance.GetFormatter<TIn>();
        _ = Instance.GetFormatter<TOut>();
    }

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T>? Formatter =
            (IMessagePackFormatter<T>?)Create(typeof(T))
            ?? (typeof(T) == typeof(string) ? (IMessagePackFormatter<T>)(object)NullableStringFormatter.Instance : null)
            ?? BuiltinResolver.Instance.GetFormatter<T>()
            ?? ContractlessStandardResolver.Instance.GetFormatter<T>();
    }

    private static object? Create(Type type)
    {
        if (type == typeof(ControlUp))
        {
            return new ControlUpFormatter();
        }

        if (type == typeof(ControlDown))
        {
            return new ControlDownFormatter();
        }

        if (type.IsGenericType)
        {
            Type definition = type.GetGenericTypeDefinition();
            if (definition == typeof(DownEnvelope<>))
            {
                return Activator.CreateInstance(typeof(DownEnvelopeFormatter<>).MakeGenericType(type.GenericTypeArguments));
            }

            if (definition == typeof(UpEnvelope<>))
            {
                return Activator.CreateInstance(typeof(UpEnvelopeFormatter<>).MakeGenericType(type.GenericTypeArguments));
            }
        }

        return null;
    }
}
