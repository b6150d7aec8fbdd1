using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using IpcChannel.Core.Tests.Helpers;
using IpcChannel.Tests.Support;
using IpcChannel.TestChild;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;
using Xunit;

namespace IpcChannel.Core.Tests;

/// <summary>A [MessagePackObject] type with integer keys and a handle.</summary>
[MessagePackObject]
public sealed class Order
{
    [Key(0)]
    public int Id { get; set; }

    [Key(1)]
    public string? Item { get; set; }

    [Key(2)]
    public IpcSender<int>? Confirm { get; set; }
}

/// <summary>A [MessagePackObject] record with property-name keys.</summary>
[MessagePackObject(keyAsPropertyName: true)]
public sealed record Invoice(int Number, decimal Amount, List<string> Lines);

/// <summary>A contractless class (no attributes, settable properties).</summary>
public sealed class Customer
{
    public string Name { get; set; } = string.Empty;

    public Dictionary<string, int> Scores { get; set; } = new();

    public Guid Id { get; set; }

    public DateTimeOffset Since { get; set; }
}

/// <summary>A type only a custom resolver knows how to write (as "21.5C").</summary>
public readonly record struct Temperature(double Celsius);

/// <summary>Writes a <see cref="Temperature"/> as a string.</summary>
public sealed class TemperatureFormatter : IMessagePackFormatter<Temperature>
{
    public void Serialize(ref MessagePackWriter writer, Temperature value, MessagePackSerializerOptions options) =>
        writer.Write(value.Celsius.ToString(CultureInfo.InvariantCulture) + "C");

    public Temperature Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        new(double.Parse(reader.ReadString()!.TrimEnd('C'), CultureInfo.InvariantCulture));
}

/// <summary>A temperature reading with a reply sender, for a custom resolver that must still carry handles.</summary>
public sealed record Reading(Temperature Value, IpcSender<string> Ack);

/// <summary>A compressible blob and an optional reply sender.</summary>
public sealed record CompressibleEnvelope(byte[] Blob, IpcSender<int>? Reply);

/// <summary>Byte fields of every memory type.</summary>
public sealed record Blobs(ReadOnlyMemory<byte> ReadOnly, Memory<byte> Writable, ArraySegment<byte> Segment, ReadOnlySequence<byte> Sequence);

/// <summary>A type whose serialization fails: its property getter throws.</summary>
public sealed class Bomb
{
    public int Fuse
    {
        get => throw new InvalidOperationException("the getter of Bomb.Fuse throws");
        set => _ = value;
    }
}

/// <summary>A sender, then a value that fails to serialize.</summary>
public sealed record Faulty(IpcSender<int> Sender, Bomb Bomb);

/// <summary>Every handle type, then a value that fails to serialize.</summary>
public sealed record FaultyKit(HandleKit Kit, Bomb Bomb);

/// <summary>Message types and serializer options (contractless, [MessagePackObject], untrusted defaults, customisation).</summary>
[Collection(FdSensitiveCollection.Name)]
public class SerializationTests
{
    [Fact]
    public void Default_TreatsInputAsUntrusted_AndAcceptsMessagesUpTo2GiB()
    {
        IpcSerializerOptions options = IpcSerializerOptions.Default;
        Assert.Same(MessagePackSecurity.UntrustedData, options.MessagePackOptions.Security);
        Assert.True(options.MessagePackOptions.Security.HashCollisionResistant);
        Assert.Equal(int.MaxValue, options.MaxMessageSize);
        Assert.Same(ContractlessStandardResolver.Instance, options.MessagePackOptions.Resolver);

        (IpcSender<int> tx, IpcReceiver<int> rx) = Ipc.Channel<int>();
        using (tx)
        using (rx)
        {
            Assert.Same(options, tx.Options);
            Assert.Same(options, rx.Options);
        }
    }

    [Fact]
    public void Create_UsesTheGivenMessagePackOptions_WithTheDefaultMaximum()
    {
        MessagePackSerializerOptions messagePack = new MessagePackSerializerOptions(BuiltinResolver.Instance).WithSecurity(MessagePackSecurity.UntrustedData);
        IpcSerializerOptions options = IpcSerializerOptions.Create(messagePack);
        Assert.Same(messagePack, options.MessagePackOptions);
        Assert.Equal(int.MaxValue, options.MaxMessageSize);
        Assert.NotSame(IpcSerializerOptions.Default, options);
        Assert.Throws<ArgumentNullException>(() => IpcSerializerOptions.Create(null!));

        (IpcSender<string> tx, IpcReceiver<string> rx) = Ipc.Channel<string>(options);
        using (tx)
        using (rx)
        {
            tx.Send("built in");
            Assert.Equal("built in", rx.ReceiveWithin());
        }
    }

    [Fact]
    public void Receive_DeeplyNestedInput_IsRefusedByDefault_ButAcceptedWithTrustedOptions()
    {
        // 1 000 nested arrays: beyond UntrustedData's depth limit (500), harmless for TrustedData.
        byte[] bomb = [.. Enumerable.Repeat((byte)0x91, 1000), 0xC0];

        (IpcSender<object> tx, IpcReceiver<object> rx) = Ipc.Channel<object>();
        using (IpcBytesSender raw = tx.ToOpaque().ToBytes())
        using (rx)
        {
            raw.Send(bomb);
            Assert.Throws<IpcSerializationException>(() => rx.ReceiveWithin());
            raw.Send(MessagePackSerializer.Serialize("still usable"));
            Assert.Equal("still usable", rx.ReceiveWithin());
        }

        IpcSerializerOptions trusted = IpcSerializerOptions.Default.WithMessagePackOptions(
            MessagePackSerializerOptions.Standard.WithResolver(ContractlessStandardResolver.Instance));
        Assert.Same(MessagePackSecurity.TrustedData, trusted.MessagePackOptions.Security);
        (IpcSender<object> trustedTx, IpcReceiver<object> trustedRx) = Ipc.Channel<object>(trusted);
        using (IpcBytesSender raw = trustedTx.ToOpaque().ToBytes())
        using (trustedRx)
        {
            raw.Send(bomb);
            object value = trustedRx.ReceiveWithin();
            for (int depth = 0; depth < 999; depth++)
            {
                value = Assert.Single((object[])value)!;
            }
        }
    }

    [Fact]
    public void Send_MessagePackObjectWithIntKeysAndAHandle_RoundTrips()
    {
        (IpcSender<int> confirmTx, IpcReceiver<int> confirmRx) = Ipc.Channel<int>();
        (IpcSender<Order> tx, IpcReceiver<Order> rx) = Ipc.Channel<Order>();
        using (confirmRx)
        using (tx)
        using (rx)
        {
            tx.Send(new Order { Id = 12, Item = "tea", Confirm = confirmTx });
            Order order = rx.ReceiveWithin();
            Assert.Equal(12, order.Id);
            Assert.Equal("tea", order.Item);
            using IpcSender<int> confirm = order.Confirm!;
            confirm.Send(12);
            Assert.Equal(12, confirmRx.ReceiveWithin());
        }
    }

    [Fact]
    public void Send_MessagePackObjectRecordWithNameKeys_RoundTrips()
    {
        (IpcSender<Invoice> tx, IpcReceiver<Invoice> rx) = Ipc.Channel<Invoice>();
        using (tx)
        using (rx)
        {
            var invoice = new Invoice(7, 19.99m, ["a", "b"]);
            tx.Send(invoice);
            Invoice received = rx.ReceiveWithin();
            Assert.Equal(invoice.Number, received.Number);
            Assert.Equal(invoice.Amount, received.Amount);
            Assert.Equal(invoice.Lines, received.Lines);
        }
    }

    [Fact]
    public void Send_ContractlessClassAndRecord_RoundTrip()
    {
        (IpcSender<Customer> tx, IpcReceiver<Customer> rx) = Ipc.Channel<Customer>();
        using (tx)
        using (rx)
        {
            var customer = new Customer { Name = "Ada", Scores = new() { ["x"] = 1, ["y"] = 2 }, Id = Guid.NewGuid(), Since = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero) };
            tx.Send(customer);
            Customer received = rx.ReceiveWithin();
            Assert.Equal(customer.Name, received.Name);
            Assert.Equal(customer.Scores, received.Scores);
            Assert.Equal(customer.Id, received.Id);
            Assert.Equal(customer.Since, received.Since);
        }

        (IpcSender<Named> namedTx, IpcReceiver<Named> namedRx) = Ipc.Channel<Named>();
        using (namedTx)
        using (namedRx)
        {
            namedTx.Send(new Named("Ada", 36));
            Assert.Equal(new Named("Ada", 36), namedRx.ReceiveWithin());
        }
    }

    [Fact]
    public void WithResolver_UsesTheResolver_KeepsUntrustedData_AndStillCarriesHandles()
    {
        IpcSerializerOptions options = IpcSerializerOptions.Default.WithResolver(CompositeResolver.Create(
            [new TemperatureFormatter()],
            [ContractlessStandardResolver.Instance]));
        Assert.NotSame(IpcSerializerOptions.Default, options);
        Assert.Same(MessagePackSecurity.UntrustedData, options.MessagePackOptions.Security);

        // The wire form is the custom formatter's.
        (IpcSender<Temperature> tx, IpcReceiver<Temperature> rx) = Ipc.Channel<Temperature>(options);
        using (tx)
        using (IpcBytesReceiver raw = rx.ToOpaque().ToBytes())
        {
            tx.Send(new Temperature(21.5));
            Assert.Equal("21.5C", MessagePackSerializer.Deserialize<string>(raw.ReceiveWithin()));
        }

        // Handles still travel next to custom-formatted values.
        (IpcSender<string> ackTx, IpcReceiver<string> ackRx) = Ipc.Channel<string>();
        (IpcSender<Reading> readingTx, IpcReceiver<Reading> readingRx) = Ipc.Channel<Reading>(options);
        using (ackRx)
        using (readingTx)
        using (readingRx)
        {
            readingTx.Send(new Reading(new Temperature(-3.25), ackTx));
            Reading reading = readingRx.ReceiveWithin();
            Assert.Equal(new Temperature(-3.25), reading.Value);
            using (reading.Ack)
            {
                reading.Ack.Send("ack");
            }

            Assert.Equal("ack", ackRx.ReceiveWithin());
        }
    }

    [Fact]
    public void WithMaxMessageSize_RefusesABiggerMessage_AndTheChannelStaysUsable()
    {
        IpcSerializerOptions options = IpcSerializerOptions.Default.WithMaxMessageSize(1024);
        Assert.Equal(1024, options.MaxMessageSize);
        Assert.Same(MessagePackSecurity.UntrustedData, options.MessagePackOptions.Security);
        (IpcSender<byte[]> tx, IpcReceiver<byte[]> rx) = Ipc.Channel<byte[]>(options);
        using (tx)
        using (rx)
        {
            tx.Send(new byte[1000]);
            tx.Send(new byte[4096]);
            tx.Send(new byte[300_000]); // a body that travels in a memfd
            tx.Send([1, 2, 3]);
            Assert.Equal(1000, rx.ReceiveWithin().Length);
            Assert.Throws<IpcSerializationException>(() => rx.ReceiveWithin());
            Assert.Throws<IpcSerializationException>(() => rx.ReceiveWithin());
            Assert.Equal(new byte[] { 1, 2, 3 }, rx.ReceiveWithin());
        }
    }

    [Fact]
    public void OpaqueTo_WithOptions_TheTypedEndsUseThoseOptions()
    {
        // Re-typing with other options: the receiver takes their largest message size, the sender their resolver.
        (IpcSender<byte[]> tx, IpcReceiver<byte[]> rx) = Ipc.Channel<byte[]>();
        IpcSerializerOptions small = IpcSerializerOptions.Default.WithMaxMessageSize(1024);
        IpcSerializerOptions noDefaults = IpcSerializerOptions.Create(new MessagePackSerializerOptions(MessagePack.Resolvers.BuiltinResolver.Instance));
        using IpcSender<string> sender = tx.ToOpaque().To<string>(noDefaults);
        using IpcReceiver<byte[]> receiver = rx.ToOpaque().To<byte[]>(small);
        Assert.Same(noDefaults, sender.Options);
        Assert.Same(small, receiver.Options);

        using (IpcSender<byte[]> raw = sender.ToOpaque().To<byte[]>())
        {
            raw.Send(new byte[4096]);
            raw.Send([7]);
        }

        Assert.Throws<IpcSerializationException>(() => receiver.ReceiveWithin());
        Assert.Equal(new byte[] { 7 }, receiver.ReceiveWithin());
        (IpcSender<int> otherTx, IpcReceiver<int> otherRx) = Ipc.Channel<int>();
        using OpaqueIpcSender opaqueTx = otherTx.ToOpaque();
        using OpaqueIpcReceiver opaqueRx = otherRx.ToOpaque();
        Assert.Throws<ArgumentNullException>(() => opaqueTx.To<int>(null!));
        Assert.Throws<ArgumentNullException>(() => opaqueRx.To<int>(null!));
    }

    [Theory]
    [InlineData("typed")]
    [InlineData("opaque")]
    [InlineData("bytes")]
    public void WithMaxMessageSize_AppliesToReceiversMovedIntoAReceiverSet(string kind)
    {
        (IpcSender<byte[]> tx, IpcReceiver<byte[]> rx) = Ipc.Channel<byte[]>(IpcSerializerOptions.Default.WithMaxMessageSize(1024));
        using var set = new IpcReceiverSet();
        using (tx)
        {
            ulong id = kind switch
            {
                "typed" => set.Add(rx),
                "opaque" => set.AddOpaque(rx.ToOpaque()),
                _ => set.Add(rx.ToOpaque().ToBytes()),
            };
            tx.Send(new byte[4096]);
            tx.Send(new byte[10]);
            Assert.Throws<IpcSerializationException>(() => set.SelectAtLeast(1));
            IpcMessageReceived received = Assert.IsType<IpcMessageReceived>(Assert.Single(set.SelectAtLeast(1)));
            Assert.Equal(id, received.Id);
            Assert.Equal(10, received.Message.Deserialize<byte[]>().Length);
        }
    }

    [Fact]
    public void WithMaxMessageSize_KeptByABytesView_OfTheReceiver()
    {
        (IpcSender<byte[]> tx, IpcReceiver<byte[]> rx) = Ipc.Channel<byte[]>(IpcSerializerOptions.Default.WithMaxMessageSize(1024));
        using (tx)
        using (IpcBytesReceiver bytes = rx.ToOpaque().ToBytes())
        {
            tx.Send(new byte[4096]);
            tx.Send(new byte[10]);
            Assert.Throws<IpcSerializationException>(() => bytes.ReceiveWithin());
            Assert.Equal(10, MessagePackSerializer.Deserialize<byte[]>(bytes.ReceiveWithin()).Length);
        }
    }

    [Fact]
    public void WithLz4Compression_CompressesTheBody_AndStillCarriesHandles()
    {
        IpcSerializerOptions lz4 = IpcSerializerOptions.Default.WithMessagePackOptions(
            IpcSerializerOptions.Default.MessagePackOptions.WithCompression(MessagePackCompression.Lz4BlockArray));
        Assert.Same(MessagePackSecurity.UntrustedData, lz4.MessagePackOptions.Security);
        (IpcSender<int> replyTx, IpcReceiver<int> replyRx) = Ipc.Channel<int>();
        (IpcSender<CompressibleEnvelope> tx, IpcReceiver<CompressibleEnvelope> rx) = Ipc.Channel<CompressibleEnvelope>(lz4);
        (IpcSender<CompressibleEnvelope> wireTx, IpcReceiver<CompressibleEnvelope> wireRx) = Ipc.Channel<CompressibleEnvelope>(lz4);
        using (replyRx)
        using (tx)
        using (rx)
        using (wireTx)
        using (IpcBytesReceiver wire = wireRx.ToOpaque().ToBytes())
        {
            wireTx.Send(new CompressibleEnvelope(new byte[1024 * 1024], null));
            Assert.True(wire.ReceiveWithin().Length < 64 * 1024, "the body was not compressed");

            tx.Send(new CompressibleEnvelope(new byte[1024 * 1024], replyTx));
            CompressibleEnvelope received = rx.ReceiveWithin();
            Assert.Equal(1024 * 1024, received.Blob.Length);
            Assert.True(received.Blob.AsSpan().IndexOfAnyExcept((byte)0) < 0);
            using (IpcSender<int> reply = received.Reply!)
            {
                reply.Send(1);
            }

            Assert.Equal(1, replyRx.ReceiveWithin());
        }
    }

    [Fact] // Receive buffers are pooled and reused: a received value must own its bytes
    public void Receive_MemoryTypedFields_DoNotAliasTheReusedReceiveBuffer()
    {
        (IpcSender<Blobs> tx, IpcReceiver<Blobs> rx) = Ipc.Channel<Blobs>();
        using (tx)
        using (rx)
        {
            byte[] a = [1, 1, 1, 1];
            byte[] b = [2, 2, 2, 2, 2, 2, 2, 2];
            tx.Send(new Blobs(a, a, new ArraySegment<byte>(a), new ReadOnlySequence<byte>(a)));
            Blobs first = rx.ReceiveWithin();
            tx.Send(new Blobs(b, b, new ArraySegment<byte>(b), new ReadOnlySequence<byte>(b)));
            Blobs second = rx.ReceiveWithin();
            Assert.Equal(a, first.ReadOnly.ToArray());
            Assert.Equal(a, first.Writable.ToArray());
            Assert.Equal(a, first.Segment.ToArray());
            Assert.Equal(a, first.Sequence.ToArray());
            Assert.Equal(b, second.ReadOnly.ToArray());
        }
    }

    [Fact]
    public void WithMaxMessageSize_IsInclusive_ExactlyTheLimitPasses_OneMoreByteIsRefused()
    {
        (IpcSender<byte[]> tx, IpcReceiver<byte[]> rx) = Ipc.Channel<byte[]>(IpcSerializerOptions.Default.WithMaxMessageSize(1024));
        using (IpcBytesSender raw = tx.ToOpaque().ToBytes())
        using (IpcBytesReceiver bytes = rx.ToOpaque().ToBytes())
        {
            raw.Send(new byte[1024]);
            raw.Send(new byte[1025]);
            raw.Send(new byte[1]);
            Assert.Equal(1024, bytes.ReceiveWithin().Length);
            Assert.Throws<IpcSerializationException>(() => bytes.ReceiveWithin());
            Assert.Single(bytes.ReceiveWithin());
        }
    }

    [Fact]
    public void ReceiverSet_DeserializesEachMessageWithItsReceiversOptions()
    {
        IpcSerializerOptions custom = IpcSerializerOptions.Default.WithResolver(CompositeResolver.Create(
            [new TemperatureFormatter()],
            [ContractlessStandardResolver.Instance]));
        (IpcSender<Temperature> tx, IpcReceiver<Temperature> rx) = Ipc.Channel<Temperature>(custom);
        using var set = new IpcReceiverSet();
        using (tx)
        {
            set.Add(rx);
            tx.Send(new Temperature(37.5));
            IpcMessageReceived received = Assert.IsType<IpcMessageReceived>(Assert.Single(set.SelectAtLeast(1)));
            Assert.Equal(new Temperature(37.5), received.Message.Deserialize<Temperature>());
        }
    }

    [Fact]
    public void With_ValidatesArguments_AndReturnsTheSameInstanceWhenNothingChanges()
    {
        IpcSerializerOptions options = IpcSerializerOptions.Default;
        Assert.Throws<ArgumentOutOfRangeException>(() => options.WithMaxMessageSize(0));
        Assert.Throws<ArgumentNullException>(() => options.WithResolver(null!));
        Assert.Throws<ArgumentNullException>(() => options.WithMessagePackOptions(null!));
        Assert.Same(options, options.WithMaxMessageSize(int.MaxValue));
        Assert.Same(options, options.WithMessagePackOptions(options.MessagePackOptions));
        Assert.Equal(int.MaxValue, IpcSerializerOptions.Default.MaxMessageSize);
    }

    [Fact] // Rust #257/#258: a failed serialization must not leave the sender or the next message dirty
    public void Send_ValueThatFailsToSerializeAfterAnEmbeddedSender_MovesNothing_SendsNothing_LeaksNothing()
    {
        Dictionary<int, string> initial = Fds.Baseline();
        (IpcSender<int> subTx, IpcReceiver<int> subRx) = Ipc.Channel<int>();
        (IpcSender<Faulty> tx, IpcReceiver<Faulty> rx) = Ipc.Channel<Faulty>();
        Dictionary<int, string> before = Fds.Baseline();

        IpcSerializationException error = Assert.Throws<IpcSerializationException>(() => tx.Send(new Faulty(subTx, new Bomb())));
        Assert.Contains("Bomb.Fuse", error.ToString(), StringComparison.Ordinal);
        Fds.AssertNoneOpenedSince(before, "a failed serialization");
        Assert.Empty(Fds.ClosedSince(before));
        Assert.False(rx.TryReceive(out _));

        // The embedded sender was not moved: it still works.
        subTx.Send(1);
        Assert.Equal(1, subRx.ReceiveWithin());

        // The next message carries exactly its own handles (no stray ones from the failed attempt).
        (IpcSender<int> otherTx, IpcReceiver<int> otherRx) = Ipc.Channel<int>();
        tx.Send(new Faulty(otherTx, null!));
        Faulty next = rx.ReceiveWithin();
        next.Sender.Send(2);
        Assert.Equal(2, otherRx.ReceiveWithin());
        Assert.False(subRx.TryReceive(out _));

        next.Sender.Dispose();
        otherRx.Dispose();
        subTx.Dispose();
        subRx.Dispose();
        tx.Dispose();
        rx.Dispose();
        Fds.AssertNoneOpenedSince(initial, "after disposing everything");
    }

    [Fact(Timeout = 30_000)]
    public async Task SendAsync_KitThenAValueThatFailsToSerialize_MovesNoHandleOfAnyType()
    {
        using var harness = new KitHarness("faulty");
        (IpcSender<FaultyKit> tx, IpcReceiver<FaultyKit> rx) = Ipc.Channel<FaultyKit>();
        using (tx)
        using (rx)
        {
            Dictionary<int, string> before = Fds.Baseline();
            await Assert.ThrowsAsync<IpcSerializationException>(() => tx.SendAsync(new FaultyKit(harness.Kit, new Bomb())).WithTimeout());
            Assert.Throws<IpcSerializationException>(() => tx.Send(new FaultyKit(harness.Kit, new Bomb())));
            Fds.AssertNoneOpenedSince(before, "failed serializations");
            Assert.False(rx.TryReceive(out _));
            harness.AssertWorks(harness.Kit);
        }
    }

    [Fact]
    public void Receive_MessageOfAnotherType_ThrowsSerialization_AndTheChannelStaysUsable()
    {
        (IpcSender<Named> tx, IpcReceiver<Named> rx) = Ipc.Channel<Named>();
        using (rx)
        using (IpcSender<string> wrong = tx.ToOpaque().To<string>())
        {
            wrong.Send("not a person");
            IpcSerializationException error = Assert.Throws<IpcSerializationException>(() => rx.ReceiveWithin());
            Assert.Contains(nameof(Named), error.Message, StringComparison.Ordinal);
            using IpcSender<Named> right = wrong.ToOpaque().To<Named>();
            right.Send(new Named("ok", 1));
            Assert.Equal(new Named("ok", 1), rx.ReceiveWithin());
        }
    }
}
