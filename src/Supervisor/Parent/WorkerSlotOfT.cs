using System;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;

namespace IpcChannel.Supervisor.Parent;

/// <summary>The typed part of a registered worker: its client handle and the data pump of each incarnation.</summary>
internal sealed class WorkerSlot<TIn, TOut> : WorkerSlot
{
    public WorkerSlot(string name, int index, Type workerType, IpcWorkerOptions options)
        : base(name, index, workerType, options)
    {
        Client = new IpcWorkerClient<TIn, TOut>(this);
        ProtocolResolver.RegisterEnvelopes<TIn, TOut>();
        _data = ProtocolResolver.OptionsFor(options.GetMessageResolver()).WithMaxMessageSize(options.MaxMessageSize);
    }

    /// <summary>The options of this worker's data channels (the app's message resolver, if it gave one; the worker's
    /// <see cref="IpcWorkerOptions.MaxMessageSize"/>).</summary>
    private readonly IpcSerializerOptions _data;

    public IpcWorkerClient<TIn, TOut> Client { get; }

    public override Type InType => typeof(TIn);

    public override Type OutType => typeof(TOut);

    public override void Connect(WorkerRun run, WorkerHello hello, IpcSupervisor supervisor)
    {
        string expectedIn = typeof(TIn).FullName ?? typeof(TIn).Name;
        string expectedOut = typeof(TOut).FullName ?? typeof(TOut).Name;
        if (hello.InType != expectedIn || hello.OutType != expectedOut)
        {
            hello.DataDown.Dispose();
            hello.DataUp.Dispose();
            hello.ControlDown.Dispose();
            throw new ProtocolViolationException(
                $"it speaks {hello.InType} -> {hello.OutType} but the parent registered {expectedIn} -> {expectedOut}");
        }

        run.Control = hello.ControlDown.To<ControlDown>();
        var connection = new WorkerConnection<TIn, TOut>(run, hello.DataDown.To<DownEnvelope<TIn>>(_data), hello.DataUp.To<UpEnvelope<TOut>>(_data));
        run.Data = connection;
        connection.Pump = PumpAsync(connection, supervisor);
    }

    public override void OnUp(WorkerRun run)
    {
        if (run.Data is WorkerConnection<TIn, TOut> connection)
        {
            Client.SetConnection(connection);
        }
    }

    public override void OnDown(WorkerRun run, string reason)
    {
        if (run.Data is WorkerConnection<TIn, TOut> connection)
        {
            Client.ClearConnection(connection);
        }
    }

    public override async Task OnExitedAsync(WorkerRun run, string reason)
    {
        if (run.Data is not WorkerConnection<TIn, TOut> connection)
        {
            return;
        }

        Client.ClearConnection(connection);
        try
        {
            await connection.Pump.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The pump is stuck delivering into a full inbox: fail what is left anyway.
        }

        connection.FailPending(new IpcWorkerCrashedException(Name, run.Number, reason));
        connection.Dispose();
    }

    public override void OnTerminal(IpcWorkerState state) => Client.SetTerminal(state);

    private async Task PumpAsync(WorkerConnection<TIn, TOut> connection, IpcSupervisor supervisor)
    {
        WorkerRun run = connection.Run;
        try
        {
            for (int handled = 1; ; handled++)
            {
                if (handled % IpcSupervisor.PumpBatch == 0)
                {
                    await Task.Yield();
                }

                UpEnvelope<TOut> envelope = await connection.Receiver.ReceiveAsync().ConfigureAwait(false);
                switch (envelope.Kind)
                {
                    case UpKind.Message:
                        await Client.DeliverAsync(envelope.Payload!).ConfigureAwait(false);
                        break;
                    case UpKind.Response:
                        connection.Complete(envelope.Id, envelope.Payload!);
                        break;
                    case UpKind.Fault:
                        connection.Fail(envelope.Id, new IpcWorkerRequestException(Name, envelope.ErrorType ?? "?", envelope.Error ?? string.Empty));
                        break;
                }
            }
        }
        catch (IpcSerializationException e)
        {
            supervisor.OnProtocolViolation(run, $"sent a malformed data message ({e.Message}; its MaxMessageSize is {Options.MaxMessageSize} bytes)");
        }
        catch (Exception e) when (e is IpcException or ObjectDisposedException or OperationCanceledException)
        {
            supervisor.OnChannelClosed(run, "its data channel closed");
        }
        catch (Exception e)
        {
            supervisor.OnProtocolViolation(run, $"its data pump failed ({e.GetType().Name}: {e.Message})");
        }
        finally
        {
            // Everything the incarnation sent was read: what is still pending will never be answered.
            connection.FailPending(new IpcWorkerCrashedException(Name, run.Number, run.Reason ?? "its data channel closed"));
        }
    }
}
