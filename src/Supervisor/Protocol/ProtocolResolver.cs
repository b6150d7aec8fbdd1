using System;
using IpcChannel.Supervisor.Protocol.Formatters;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace IpcChannel.Supervisor.Protocol;

/// <summary>
/// Resolves the hand-written formatters of the supervisor's protocol types; everything else (the users'
/// message types) falls through to IpcChannel's default contractless resolver.
/// </summary>
internal sealed class ProtocolResolver : IFormatterResolver
{
    public static readonly ProtocolResolver Instance = new();

    /// <summary>The options of every supervisor channel: protocol formatters first, untrusted-data security (kept from the default).</summary>
    public static readonly IpcSerializerOptions Options = IpcSerializerOptions.Default.WithResolver(
        CompositeResolver.Create(Instance, ContractlessStandardResolver.Instance));

    private ProtocolResolver()
    {
    }

    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T>? Formatter = (IMessagePackFormatter<T>?)Create(typeof(T));
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
