using System;
using System.Threading;
using IpcChannel.Serialization;
using MessagePack;
using MessagePack.Resolvers;

namespace IpcChannel;

/// <summary>
/// How messages are serialized: the MessagePack options (resolver, security) and the largest message a
/// receiver accepts. Immutable; every <c>With*</c> returns a new instance.
/// </summary>
/// <remarks>
/// The default resolves contractless records and classes (no attributes needed) and
/// <c>[MessagePackObject]</c> types, and treats all input as untrusted
/// (<see cref="MessagePackSecurity.UntrustedData"/>: hash-collision-resistant dictionaries and a depth
/// limit). IpcChannel's own formatters for senders, receivers and shared memory always come first, whatever
/// resolver is configured.
/// </remarks>
public sealed class IpcSerializerOptions
{
    private IpcSerializationContext? _cachedContext;

    private IpcSerializerOptions(MessagePackSerializerOptions messagePack, int maxMessageSize)
    {
        MessagePackOptions = messagePack;
        MaxMessageSize = maxMessageSize;
        EffectiveMessagePackOptions = messagePack.WithResolver(
            CompositeResolver.Create(IpcHandleResolver.Instance, messagePack.Resolver));
    }

    /// <summary>Contractless MessagePack with <see cref="MessagePackSecurity.UntrustedData"/>, 2 GiB − 1 messages.</summary>
    /// <remarks>Built on first use: MessagePack's standard resolvers cost tens of milliseconds to initialise (they
    /// compile a regular expression and create a dynamic assembly), which a process that never uses the default
    /// options (see <see cref="Create"/>) does not pay.</remarks>
    public static IpcSerializerOptions Default => DefaultHolder.Instance;

    /// <summary>
    /// Options with the given MessagePack options and messages up to 2 GiB − 1, without initialising
    /// <see cref="Default"/> (and with it MessagePack's standard resolvers).
    /// </summary>
    /// <param name="messagePackOptions">The MessagePack options; their security is used as given, so keep
    /// <see cref="MessagePackSecurity.UntrustedData"/> unless every peer is trusted.</param>
    /// <returns>New options.</returns>
    /// <remarks>For a process whose start time matters (a worker launched on demand): build the options from a
    /// resolver that defers MessagePack's dynamic resolvers until a type needs them, e.g.
    /// <c>new MessagePackSerializerOptions(myResolver).WithSecurity(MessagePackSecurity.UntrustedData)</c>.</remarks>
    public static IpcSerializerOptions Create(MessagePackSerializerOptions messagePackOptions)
    {
        ArgumentNullException.ThrowIfNull(messagePackOptions);
        return new IpcSerializerOptions(messagePackOptions, int.MaxValue);
    }

    /// <summary>The MessagePack options as configured (before IpcChannel's handle formatters are added).</summary>
    public MessagePackSerializerOptions MessagePackOptions { get; }

    /// <summary>The largest message, in bytes, that a receiver using these options accepts.</summary>
    public int MaxMessageSize { get; }

    /// <summary>The options actually used: the configured ones with the handle resolver first.</summary>
    internal MessagePackSerializerOptions EffectiveMessagePackOptions { get; }

    /// <summary>Uses other MessagePack options (resolver, security, compression...).</summary>
    /// <param name="options">The options; their security is used as given, so keep <see cref="MessagePackSecurity.UntrustedData"/> unless every peer is trusted.</param>
    /// <returns>New options.</returns>
    public IpcSerializerOptions WithMessagePackOptions(MessagePackSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ReferenceEquals(options, MessagePackOptions) ? this : new IpcSerializerOptions(options, MaxMessageSize);
    }

    /// <summary>Uses another resolver, keeping the current security settings.</summary>
    /// <param name="resolver">The resolver for message types.</param>
    /// <returns>New options.</returns>
    public IpcSerializerOptions WithResolver(IFormatterResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        return new IpcSerializerOptions(MessagePackOptions.WithResolver(resolver), MaxMessageSize);
    }

    /// <summary>Sets the largest message a receiver accepts; larger declared sizes are refused unread.</summary>
    /// <param name="maxMessageSize">Bytes, at least 1.</param>
    /// <returns>New options.</returns>
    public IpcSerializerOptions WithMaxMessageSize(int maxMessageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageSize, 1);
        return maxMessageSize == MaxMessageSize ? this : new IpcSerializerOptions(MessagePackOptions, maxMessageSize);
    }

    /// <summary>Takes a per-message context (reused when free, so a steady stream allocates none).</summary>
    internal IpcSerializationContext RentContext() =>
        Interlocked.Exchange(ref _cachedContext, null) ?? new IpcSerializationContext(this);

    /// <summary>Gives a context back after its message is done.</summary>
    internal void ReturnContext(IpcSerializationContext context)
    {
        context.Reset();
        Interlocked.CompareExchange(ref _cachedContext, context, null);
    }

    /// <summary>Holds <see cref="Default"/>, so that it is built on first use of <see cref="Default"/> only.</summary>
    private static class DefaultHolder
    {
        public static readonly IpcSerializerOptions Instance = new(
            MessagePackSerializerOptions.Standard
                .WithResolver(ContractlessStandardResolver.Instance)
                .WithSecurity(MessagePackSecurity.UntrustedData),
            int.MaxValue);
    }
}
