using System;
using BenchmarkDotNet.Attributes;
using IpcChannel.Serialization;

namespace IpcChannel.Benchmarks;

/// <summary>The serializer path a typed send and receive take (MessageCodec with a per-message context), no transport.</summary>
[MemoryDiagnoser]
public class SerializationBenchmarks
{
    private readonly Small _small = new(42, "hello from ipc-channel", [1, 2, 3, 4, 5, 6, 7, 8]);
    private byte[] _serialized = [];

    [GlobalSetup]
    public void Setup()
    {
        IpcSerializationContext context = IpcSerializerOptions.Default.RentContext();
        MessageCodec.Serialize(context, _small);
        _serialized = context.Buffer.WrittenSpan.ToArray();
        IpcSerializerOptions.Default.ReturnContext(context);
    }

    [Benchmark(Description = "serialize Small(int, string, byte[8])")]
    public int SerializeSmall()
    {
        IpcSerializerOptions options = IpcSerializerOptions.Default;
        IpcSerializationContext context = options.RentContext();
        try
        {
            MessageCodec.Serialize(context, _small);
            return context.Buffer.WrittenCount;
        }
        finally
        {
            options.ReturnContext(context);
        }
    }

    [Benchmark(Description = "deserialize Small(int, string, byte[8])")]
    public Small DeserializeSmall()
    {
        IpcSerializerOptions options = IpcSerializerOptions.Default;
        IpcSerializationContext context = options.RentContext();
        try
        {
            return MessageCodec.Deserialize<Small>(context, _serialized, null);
        }
        finally
        {
            options.ReturnContext(context);
        }
    }
}
