using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor;
using Microsoft.Extensions.Logging;

namespace SandboxedDecoder;

/// <summary>
/// Decodes untrusted images in its own sandboxed process (AddIpcWorker's default sandbox, with a 256 MiB GC heap
/// cap). A request that throws (a malformed image, a write the sandbox refuses) fails only that request; an input
/// that kills the process (the heap cap, a stack overflow) is a crash: the supervisor restarts the decoder.
/// </summary>
public sealed partial class DecoderWorker(ILogger<DecoderWorker> logger) : IpcWorker<DecodeRequest, DecodeResult>
{
    protected override ValueTask<DecodeResult> OnRequestAsync(DecodeRequest request, CancellationToken cancellationToken)
    {
        Log.Decoding(logger, request.Name, request.Data.Length, Incarnation);
        return ValueTask.FromResult(TinyImage.Decode(request.Name, request.Data));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "decoding {Name} ({Bytes} bytes) in incarnation {Incarnation}")]
        public static partial void Decoding(ILogger logger, string name, int bytes, int incarnation);
    }
}
