using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
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

    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Resolved ? Cache<T>.Formatter : Resolve<T>();

    /// <summary>
    /// Resolves, off the critical path, the formatters a worker with these message types will use. The envelopes'
    /// formatters are created here as statically typed code, so an ahead-of-time compiled process never has to
    /// build them at run time (which NativeAOT cannot do for a value-type message).
    /// </summary>
    public static void Warm<TIn, TOut>()
    {
        RegisterEnvelopes<TIn, TOut>();
        _ = Instance.GetFormatter<ControlUp>();
        _ = Instance.GetFormatter<ControlDown>();
        _ = Instance.GetFormatter<TIn>();
        _ = Instance.GetFormatter<TOut>();
    }

    /// <summary>Registers the envelopes' formatters of these message types as statically typed code (cheap: two allocations).</summary>
    public static void RegisterEnvelopes<TIn, TOut>()
    {
        Register(new DownEnvelopeFormatter<TIn>());
        Register(new UpEnvelopeFormatter<TOut>());
    }

    private static void Register<T>(IMessagePackFormatter<T> formatter)
    {
        if (!Cache<T>.Resolved)
        {
            Interlocked.CompareExchange(ref Cache<T>.Formatter, formatter, null);
            Volatile.Write(ref Cache<T>.Resolved, true);
        }
    }

    private static IMessagePackFormatter<T>? Resolve<T>()
    {
        // Racing threads compute equivalent (stateless) formatters; the first one stored wins.
        IMessagePackFormatter<T>? created =
            (IMessagePackFormatter<T>?)Create(typeof(T))
            ?? (typeof(T) == typeof(string) ? (IMessagePackFormatter<T>)(object)NullableStringFormatter.Instance : null)
            ?? BuiltinResolver.Instance.GetFormatter<T>()
            ?? ContractlessStandardResolver.Instance.GetFormatter<T>();
        if (created is not null)
        {
            Interlocked.CompareExchange(ref Cache<T>.Formatter, created, null);
        }

        Volatile.Write(ref Cache<T>.Resolved, true);
        return Cache<T>.Formatter;
    }

    /// <summary>One formatter per type; <see cref="Resolved"/> is set once <see cref="Formatter"/> is final.</summary>
    private static class Cache<T>
    {
        public static IMessagePackFormatter<T>? Formatter;
        public static bool Resolved;
    }

    [UnconditionalSuppressMessage("AOT", "IL3050:RequiresDynamicCode", Justification =
        "Only reached for an envelope whose message types Warm<TIn, TOut> did not register (never on the supervisor's own paths: the parent's slots and the child's connection register theirs); " +
        "NativeAOT builds reference-type instantiations from shared code.")]
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
