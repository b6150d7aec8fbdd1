using System;
using System.Threading;
using Microsoft.Extensions.Hosting;

namespace IpcChannel.Supervisor.Child;

/// <summary>
/// The application lifetime of a worker run by <see cref="IpcWorkerHost"/>, which has no Generic Host to provide
/// one: <see cref="StopApplication"/> (the parent's stop message, SIGTERM, the worker's completion or crash, the
/// parent watchdog) ends the wait in <see cref="IpcWorkerHost.RunAsync{TWorker}(string[], Action{Microsoft.Extensions.DependencyInjection.IServiceCollection}?, Action{IpcWorkerOptions}?)"/>.
/// </summary>
internal sealed class WorkerProcessLifetime : IHostApplicationLifetime, IDisposable
{
    private readonly CancellationTokenSource _started = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _stopped = new();

    public CancellationToken ApplicationStarted => _started.Token;

    public CancellationToken ApplicationStopping => _stopping.Token;

    public CancellationToken ApplicationStopped => _stopped.Token;

    public void StopApplication()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already stopped and disposed.
        }
    }

    public void NotifyStarted() => _started.Cancel();

    public void NotifyStopped() => _stopped.Cancel();

    public void Dispose()
    {
        _started.Dispose();
        _stopping.Dispose();
        _stopped.Dispose();
    }
}
