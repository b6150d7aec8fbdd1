using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace IpcChannel.Supervisor.Child;

/// <summary>
/// A worker's host lifetime, in place of the console lifetime: SIGTERM stops the worker gracefully, while
/// SIGINT and SIGQUIT are ignored. A Ctrl+C in a terminal reaches every process of the foreground group, the
/// workers included; only the parent decides when a worker stops, so each stops in its turn.
/// </summary>
internal sealed class WorkerHostLifetime(IHostApplicationLifetime lifetime) : IHostLifetime, IDisposable
{
    private PosixSignalRegistration? _term;
    private PosixSignalRegistration? _interrupt;
    private PosixSignalRegistration? _quit;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            lifetime.StopApplication();
        });
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
        _quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, context => context.Cancel = true);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _term?.Dispose();
        _interrupt?.Dispose();
        _quit?.Dispose();
    }
}
