using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using MessagePack.Formatters;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.AotWorker;

/// <summary>
/// Answers string commands: "pid", "runtime" (whether code can be generated at run time: false under NativeAOT),
/// "status" (this process's seccomp and no_new_privs lines), "read:PATH" (reads a file: "ok" or the error),
/// "log:TEXT" (logs through ILogger), "notify:TEXT" (sends TEXT to the parent on its own), "failfast"; anything
/// else is echoed.
/// </summary>
public sealed partial class AotEchoWorker(ILogger<AotEchoWorker> logger) : IpcWorker<string, string>
{
    /// <inheritdoc/>
    protected override async ValueTask<string> OnRequestAsync(string request, CancellationToken cancellationToken)
    {
        switch (request)
        {
            case "pid":
                return Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            case "runtime":
                return $"dynamic-code={RuntimeFeature.IsDynamicCodeSupported}";
            case "status":
                return string.Join(';', File.ReadAllLines("/proc/self/status")
                    .Where(l => l.StartsWith("Seccomp:", StringComparison.Ordinal) || l.StartsWith("NoNewPrivs:", StringComparison.Ordinal))
                    .Select(l => string.Join(' ', l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))));
            case "handles":
                return SendHandlesThroughChannels();
            case "failfast":
                Environment.FailFast("the AOT worker was told to fail fast");
                return "unreachable";
        }

        if (request.StartsWith("read:", StringComparison.Ordinal))
        {
            try
            {
                _ = await File.ReadAllBytesAsync(request["read:".Length..], cancellationToken);
                return "ok";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"denied:{e.GetType().Name}";
            }
        }

        if (request.StartsWith("log:", StringComparison.Ordinal))
        {
            Marker(logger, request["log:".Length..]);
            return "logged";
        }

        if (request.StartsWith("notify:", StringComparison.Ordinal))
        {
            await SendToParentAsync(request["notify:".Length..], cancellationToken);
            return "notified";
        }

        return request;
    }

    /// <summary>
    /// Sends a sender and a receiver of a value type (int) inside messages and uses what arrives: their formatters
    /// exist as compiled code only because the handle types register them (NativeAOT cannot build them at run time).
    /// </summary>
    private static string SendHandlesThroughChannels()
    {
        (IpcSender<int> numbers, IpcReceiver<int> numbersOut) = Ipc.Channel<int>();
        (IpcSender<IpcSender<int>> senders, IpcReceiver<IpcSender<int>> sendersOut) = Ipc.Channel<IpcSender<int>>();
        (IpcSender<IpcReceiver<int>> receivers, IpcReceiver<IpcReceiver<int>> receiversOut) = Ipc.Channel<IpcReceiver<int>>();
        using (senders)
        using (sendersOut)
        using (receivers)
        using (receiversOut)
        {
            senders.Send(numbers);
            receivers.Send(numbersOut);
            using IpcSender<int> travelled = Take(sendersOut);
            using IpcReceiver<int> arrived = Take(receiversOut);
            travelled.Send(42);
            return $"handles={Take(arrived)}";
        }
    }

    private static T Take<T>(IpcReceiver<T> receiver) =>
        receiver.TryReceive(TimeSpan.FromSeconds(10), out T? value) ? value : throw new TimeoutException($"nothing arrived on {receiver} in 10 s");

    [LoggerMessage(1, LogLevel.Information, "aot-marker {Text}")]
    private static partial void Marker(ILogger logger, string text);
}

/// <summary>Value-type messages: adds each request to a running total and answers the total; a message on its own
/// (not a request) is added too and the total is sent to the parent.</summary>
public sealed class AotSumWorker : IpcWorker<int, long>
{
    private long _total;

    /// <inheritdoc/>
    protected override ValueTask<long> OnRequestAsync(int request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Interlocked.Add(ref _total, request));

    /// <inheritdoc/>
    protected override ValueTask OnMessageAsync(int message, CancellationToken cancellationToken) =>
        SendToParentAsync(Interlocked.Add(ref _total, message), cancellationToken);
}

/// <summary>A message type of the app's own: a record, which MessagePack's contractless resolver would serialize by
/// generating code at run time (impossible in a native process); <see cref="PointResolver"/> serializes it instead.</summary>
public sealed record Point(int X, int Y, string Label);

/// <summary>Mirrors points: (x, y) becomes (-x, -y), the label gets a mark.</summary>
public sealed class AotPointWorker : IpcWorker<Point, Point>
{
    /// <inheritdoc/>
    protected override ValueTask<Point> OnRequestAsync(Point request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new Point(-request.X, -request.Y, request.Label + " mirrored"));
}

/// <summary>
/// Both ends of the "points" link (AddIpcWorkerLink) in native workers: a worker whose name ends in "consumer" sums
/// the points arriving on the link; "produce:N" sends N points (0..N-1, 0) on it, "sum:N" waits until N have arrived
/// and answers "count:sum".
/// </summary>
public sealed class AotRelayWorker : IpcWorker<string, string>
{
    private long _count;
    private long _sum;

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!WorkerName.EndsWith("consumer", StringComparison.Ordinal))
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return;
        }

        IpcReceiver<Point> points = Links.GetReceiver<Point>("points");
        try
        {
            await foreach (Point point in points.ReadAllAsync(stoppingToken))
            {
                Interlocked.Add(ref _sum, point.X);
                Interlocked.Increment(ref _count);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask<string> OnRequestAsync(string request, CancellationToken cancellationToken)
    {
        int n = int.Parse(request[(request.IndexOf(':', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        if (request.StartsWith("produce:", StringComparison.Ordinal))
        {
            IpcWorkerLinkSender<Point> link = Links.GetSender<Point>("points");
            for (int i = 0; i < n; i++)
            {
                await link.SendAsync(new Point(i, 0, "p"), cancellationToken);
            }

            return $"produced:{n}";
        }

        while (Interlocked.Read(ref _count) < n)
        {
            await Task.Delay(10, cancellationToken);
        }

        return $"{Interlocked.Read(ref _count)}:{Interlocked.Read(ref _sum)}";
    }
}

/// <summary>The app's resolver for <see cref="Point"/> (given to both sides with IpcWorkerOptions.UseMessageResolver).</summary>
public sealed class PointResolver : IFormatterResolver
{
    public static readonly PointResolver Instance = new();

    public IMessagePackFormatter<T>? GetFormatter<T>() =>
        typeof(T) == typeof(Point) ? (IMessagePackFormatter<T>)(object)PointFormatter.Instance : null;

    /// <summary>A point as [x, y, label].</summary>
    private sealed class PointFormatter : IMessagePackFormatter<Point?>
    {
        public static readonly PointFormatter Instance = new();

        public void Serialize(ref MessagePackWriter writer, Point? value, MessagePackSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }

            writer.WriteArrayHeader(3);
            writer.Write(value.X);
            writer.Write(value.Y);
            writer.Write(value.Label);
        }

        public Point? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            if (reader.TryReadNil())
            {
                return null;
            }

            if (reader.ReadArrayHeader() != 3)
            {
                throw new MessagePackSerializationException("A point is an array of three items.");
            }

            return new Point(reader.ReadInt32(), reader.ReadInt32(), reader.ReadString() ?? string.Empty);
        }
    }
}
