using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;
using IpcChannel.Supervisor.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Child;

/// <summary>
/// The only hosted service of a worker process: connects back to the parent's bootstrap server, hands over
/// the channels, runs the worker and dispatches the parent's messages to it.
/// </summary>
internal sealed partial class WorkerChildService<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker, TIn, TOut> : IHostedService, IWorkerRuntime<TOut>
    where TWorker : IpcWorker<TIn, TOut>
{
    private readonly IServiceProvider _services;
    private readonly WorkerLaunchInfo _info;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ParentWatchdog _watchdog;
    private readonly LogForwarder? _forwarder;
    private readonly PendingWorkerConnection<TIn, TOut> _connection;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _activated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IpcSender<ControlUp>? _up;
    private IpcSender<UpEnvelope<TOut>>? _dataUp;
    private IpcReceiver<DownEnvelope<TIn>>? _dataDown;
    private IpcReceiver<ControlDown>? _controlDown;
    private TWorker? _worker;
    private Task _work = Task.CompletedTask;
    private Task _control = Task.CompletedTask;

    public WorkerChildService(IServiceProvider services, WorkerLaunchInfo info, IHostApplicationLifetime lifetime, ParentWatchdog watchdog, ILoggerFactory loggers, PendingWorkerConnection<TIn, TOut> connection)
    {
        _services = services;
        _connection = connection;
        _info = info;
        _lifetime = lifetime;
        _watchdog = watchdog;
        _forwarder = services.GetService<LogForwarder>();
        _logger = loggers.CreateLogger("IpcChannel.Supervisor.Worker");
        Links = new IpcWorkerLinks(TimeSpan.FromSeconds(30), connection.Data);
        watchdog.Attach(lifetime);
    }

    public string WorkerName => _info.WorkerName;

    public int Incarnation => _info.Incarnation;

    public IpcWorkerLinks Links { get; }

    public ValueTask SendToParentAsync(TOut message, CancellationToken cancellationToken) =>
        (_dataUp ?? throw new InvalidOperationException("The worker is not connected yet.")).SendAsync(new UpEnvelope<TOut>(UpKind.Message, 0, message), cancellationToken);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_info.Standby)
        {
            _activated.TrySetResult();
        }

        // Opened while the host was being built (see WorkerChildConnection), after the sandbox's second stage
        // (seccomp on every thread, verified); usually ready by now.
        WorkerChildConnection<TIn, TOut> connection;
        try
        {
            connection = await _connection.Opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SandboxException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"IpcChannel worker {_info.WorkerName}: the sandbox could not be applied, the worker does not start: {e.Message}").ConfigureAwait(false);
            throw;
        }
        catch (IpcException e)
        {
            _watchdog.Trigger($"cannot reach the parent's bootstrap server ({e.Message})");
            throw;
        }

        IpcSender<ControlUp> up = connection.Up;
        _up = up;
        _dataUp = connection.DataUp;
        _dataDown = connection.DataDown;
        _controlDown = connection.ControlDown;

        await up.SendAsync(
            new ControlUp
            {
                Kind = ControlUpKind.Hello,
                Hello = new WorkerHello
                {
                    Token = _info.Token,
                    WorkerName = _info.WorkerName,
                    Incarnation = _info.Incarnation,
                    Pid = Environment.ProcessId,
                    InType = typeof(TIn).FullName ?? typeof(TIn).Name,
                    OutType = typeof(TOut).FullName ?? typeof(TOut).Name,
                    DataDown = connection.DataDownSender.ToOpaque(),
                    DataUp = connection.DataUpReceiver.ToOpaque(),
                    ControlDown = connection.ControlDownSender.ToOpaque(),
                },
            },
            cancellationToken).ConfigureAwait(false);

        _forwarder?.Attach(up);
        if (connection.Sandbox.IsSandboxed)
        {
            Log.Sandboxed(_logger, _info.WorkerName, connection.Sandbox.Layers, connection.Sandbox.LandlockAbi, connection.Sandbox.ThreadsVerified);
        }

        _control = Task.Run(ControlLoopAsync, CancellationToken.None);
        _work = Task.Run(WorkAsync, CancellationToken.None);
    }

    /// <summary>Creates the worker (at once, or when a warm standby is activated) and runs it.</summary>
    private async Task WorkAsync()
    {
        try
        {
            await _activated.Task.WaitAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            _worker = ActivatorUtilities.GetServiceOrCreateInstance<TWorker>(_services);
            _worker.Attach(this);
        }
        catch (Exception e)
        {
            Crash(e, "the worker's constructor");
            return;
        }

        await Task.WhenAll(Task.Run(ExecuteAsync), Task.Run(DispatchLoopAsync)).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _work.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.StopTimedOut(_logger, _info.WorkerName);
        }

        if (_forwarder is not null)
        {
            using var flush = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            await _forwarder.FlushAsync(flush.Token).ConfigureAwait(false);
        }

        _dataUp?.Dispose();
        _dataDown?.Dispose();
        _controlDown?.Dispose();
        _up?.Dispose();
    }

    private async Task ExecuteAsync()
    {
        try
        {
            await _worker!.RunAsync(_stopping.Token).ConfigureAwait(false);
            if (!_stopping.IsCancellationRequested)
            {
                Log.WorkerCompleted(_logger, _info.WorkerName);
                _lifetime.StopApplication();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception e)
        {
            Crash(e, "ExecuteAsync");
        }
    }

    private async Task DispatchLoopAsync()
    {
        IpcReceiver<DownEnvelope<TIn>> receiver = _dataDown!;
        while (!_stopping.IsCancellationRequested)
        {
            DownEnvelope<TIn> envelope;
            try
            {
                envelope = await receiver.ReceiveAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (IpcDisconnectedException)
            {
                _watchdog.Trigger("the parent's data channel closed");
                return;
            }
            catch (IpcSerializationException e)
            {
                Log.MalformedFromParent(_logger, e);
                continue;
            }

            if (envelope.Kind == DownKind.Message)
            {
                try
                {
                    await _worker!.HandleMessageAsync(envelope.Payload, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    Crash(e, "OnMessageAsync");
                    return;
                }
            }
            else
            {
                await AnswerAsync(envelope).ConfigureAwait(false);
            }
        }
    }

    private async Task AnswerAsync(DownEnvelope<TIn> request)
    {
        UpEnvelope<TOut> answer;
        try
        {
            TOut response = await _worker!.HandleRequestAsync(request.Payload, _stopping.Token).ConfigureAwait(false);
            answer = new UpEnvelope<TOut>(UpKind.Response, request.Id, response);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            Log.RequestFailed(_logger, _info.WorkerName, e);
            answer = new UpEnvelope<TOut>(UpKind.Fault, request.Id, default, e.GetType().FullName, e.Message);
        }

        try
        {
            await _dataUp!.SendAsync(answer).ConfigureAwait(false);
        }
        catch (IpcDisconnectedException)
        {
            _watchdog.Trigger("the parent's data channel closed");
        }
        catch (IpcSerializationException e)
        {
            Log.RequestFailed(_logger, _info.WorkerName, e);
            await _dataUp!.SendAsync(new UpEnvelope<TOut>(UpKind.Fault, request.Id, default, e.GetType().FullName, e.Message)).ConfigureAwait(false);
        }
    }

    private async Task ControlLoopAsync()
    {
        IpcReceiver<ControlDown> receiver = _controlDown!;
        while (true)
        {
            ControlDown message;
            try
            {
                message = await receiver.ReceiveAsync().ConfigureAwait(false);
            }
            catch (IpcDisconnectedException)
            {
                if (!_stopping.IsCancellationRequested)
                {
                    _watchdog.Trigger("the parent's control channel closed");
                }

                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (IpcSerializationException e)
            {
                Log.MalformedFromParent(_logger, e);
                continue;
            }

            try
            {
                await HandleControlAsync(message).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IpcException or ObjectDisposedException)
            {
                // The parent is gone or we are stopping; the next receive says which.
            }
        }
    }

    private async ValueTask HandleControlAsync(ControlDown message)
    {
        switch (message.Kind)
        {
            case ControlDownKind.Ping:
                await _up!.SendAsync(new ControlUp { Kind = ControlUpKind.Pong, Number = message.Number }).ConfigureAwait(false);
                break;
            case ControlDownKind.Activate:
                _activated.TrySetResult();
                break;
            case ControlDownKind.Stop:
                Log.StopRequested(_logger, _info.WorkerName);
                _lifetime.StopApplication();
                break;
            case ControlDownKind.LinkRequest when message.LinkName is not null:
                await _up!.SendAsync(new ControlUp { Kind = ControlUpKind.LinkSender, Text1 = message.LinkName, Sender = Links.CreateSender(message.LinkName) }).ConfigureAwait(false);
                break;
            case ControlDownKind.LinkSender when message.LinkName is not null && message.Sender is not null:
                Links.SetSender(message.LinkName, message.Sender);
                break;
            default:
                message.Sender?.Dispose();
                break;
        }
    }

    private void Crash(Exception e, string where)
    {
        Log.WorkerCrashed(_logger, _info.WorkerName, where, e);
        Environment.ExitCode = 1;
        _lifetime.StopApplication();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.ChildCompleted, Level = LogLevel.Information, Message = "Worker {WorkerName} completed its work; exiting normally.")]
        public static partial void WorkerCompleted(ILogger logger, string workerName);

        [LoggerMessage(EventId = LogEvents.ChildCrashed, Level = LogLevel.Critical, Message = "Worker {WorkerName} crashed in {Where}; exiting with code 1.")]
        public static partial void WorkerCrashed(ILogger logger, string workerName, string where, Exception exception);

        [LoggerMessage(EventId = LogEvents.ChildRequestFailed, Level = LogLevel.Warning, Message = "Worker {WorkerName} failed a request; the caller gets the error.")]
        public static partial void RequestFailed(ILogger logger, string workerName, Exception exception);

        [LoggerMessage(EventId = LogEvents.ChildMalformed, Level = LogLevel.Error, Message = "A message from the parent was malformed and skipped.")]
        public static partial void MalformedFromParent(ILogger logger, Exception exception);

        [LoggerMessage(EventId = LogEvents.ChildStopRequested, Level = LogLevel.Debug, Message = "Worker {WorkerName} was asked to stop.")]
        public static partial void StopRequested(ILogger logger, string workerName);

        [LoggerMessage(EventId = LogEvents.ChildSandboxed, Level = LogLevel.Debug, Message = "Worker {WorkerName} runs sandboxed: {SandboxLayers}, Landlock ABI {LandlockAbi}, {ThreadsVerified} threads verified.")]
        public static partial void Sandboxed(ILogger logger, string workerName, SandboxLayers sandboxLayers, int landlockAbi, int threadsVerified);

        [LoggerMessage(EventId = LogEvents.ChildStopTimedOut, Level = LogLevel.Warning, Message = "Worker {WorkerName} did not stop within the host's shutdown timeout.")]
        public static partial void StopTimedOut(ILogger logger, string workerName);
    }
}
