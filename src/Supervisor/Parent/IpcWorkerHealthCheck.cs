using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IpcChannel.Supervisor.Parent;

/// <summary>One worker's health: healthy when serving (or finished as its restart type allows), degraded while starting or restarting, unhealthy when the supervisor gave up.</summary>
internal sealed class IpcWorkerHealthCheck(IpcSupervisor supervisor, string workerName) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        IpcWorkerStatus status = supervisor.GetStatus(workerName);
        var data = new Dictionary<string, object>
        {
            ["state"] = status.State.ToString(),
            ["pid"] = status.Pid,
            ["incarnation"] = status.Incarnation,
            ["restarts"] = status.Restarts,
        };
        HealthCheckResult result = status.State switch
        {
            IpcWorkerState.Running => HealthCheckResult.Healthy($"Worker {workerName} is serving (pid {status.Pid}).", data),
            IpcWorkerState.Stopped => HealthCheckResult.Healthy($"Worker {workerName} finished and is not restarted.", data),
            IpcWorkerState.Failed => new HealthCheckResult(context.Registration.FailureStatus, $"The supervisor gave up on worker {workerName}.", data: data),
            _ => HealthCheckResult.Degraded($"Worker {workerName} is {status.State}.", data: data),
        };
        return Task.FromResult(result);
    }
}
