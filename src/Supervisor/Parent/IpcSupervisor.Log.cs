using System;
using Microsoft.Extensions.Logging;

namespace IpcChannel.Supervisor.Parent;

internal sealed partial class IpcSupervisor
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.WorkerStarted, Level = LogLevel.Information, Message = "Worker {WorkerName} started: pid {WorkerPid}, incarnation {WorkerIncarnation}, ready in {StartMilliseconds:0.0} ms.")]
        public static partial void Started(ILogger logger, string workerName, int workerPid, int workerIncarnation, double startMilliseconds);

        [LoggerMessage(EventId = LogEvents.WorkerExited, Level = LogLevel.Warning, Message = "Worker {WorkerName} (pid {WorkerPid}, incarnation {WorkerIncarnation}) ended: {Exit}; restart type {RestartType}, restart: {Restart}.")]
        public static partial void Exited(ILogger logger, string workerName, int workerPid, int workerIncarnation, string exit, IpcRestartType restartType, bool restart);

        [LoggerMessage(EventId = LogEvents.WorkerRestarting, Level = LogLevel.Information, Message = "Restarting worker {WorkerName} after {DelayMilliseconds:0} ms ({Count} worker(s) affected, strategy {Strategy}).")]
        public static partial void Restarting(ILogger logger, string workerName, double delayMilliseconds, int count, IpcRestartStrategy strategy);

        [LoggerMessage(EventId = LogEvents.GaveUp, Level = LogLevel.Critical, Message = "The supervisor gives up: worker {WorkerName} {Exit}, more than {MaxRestarts} restarts within {PeriodSeconds} s. Stopping every worker and the host with exit code {ExitCode}.")]
        public static partial void GaveUp(ILogger logger, string workerName, string exit, int maxRestarts, double periodSeconds, int exitCode);

        [LoggerMessage(EventId = LogEvents.WorkerKilled, Level = LogLevel.Warning, Message = "Killing worker {WorkerName} (pid {WorkerPid}): {Reason}.")]
        public static partial void Killed(ILogger logger, string workerName, int workerPid, string reason);

        [LoggerMessage(EventId = LogEvents.WorkerStopping, Level = LogLevel.Information, Message = "Stopping worker {WorkerName} (pid {WorkerPid}): {Reason}.")]
        public static partial void Stopping(ILogger logger, string workerName, int workerPid, string reason);

        [LoggerMessage(EventId = LogEvents.WorkerStopped, Level = LogLevel.Information, Message = "Worker {WorkerName} (pid {WorkerPid}) stopped ({How}).")]
        public static partial void Stopped(ILogger logger, string workerName, int workerPid, string how);

        [LoggerMessage(EventId = LogEvents.Escalating, Level = LogLevel.Warning, Message = "Worker {WorkerName} (pid {WorkerPid}) did not stop in time; sending {Signal}.")]
        public static partial void Escalating(ILogger logger, string workerName, int workerPid, string signal);

        [LoggerMessage(EventId = LogEvents.WorkerStartFailed, Level = LogLevel.Error, Message = "Worker {WorkerName} could not be launched: {Reason}.")]
        public static partial void StartFailed(ILogger logger, string workerName, string reason, Exception exception);

        [LoggerMessage(EventId = LogEvents.WorkerStdout, Level = LogLevel.Information, Message = "{Line}")]
        public static partial void Stdout(ILogger logger, string line);

        [LoggerMessage(EventId = LogEvents.WorkerStderr, Level = LogLevel.Warning, Message = "{Line}")]
        public static partial void Stderr(ILogger logger, string line);

        [LoggerMessage(EventId = LogEvents.ProtocolViolation, Level = LogLevel.Error, Message = "Worker {WorkerName} (pid {WorkerPid}) broke the protocol: {What}.")]
        public static partial void ProtocolViolation(ILogger logger, string workerName, int workerPid, string what);

        [LoggerMessage(EventId = LogEvents.LinkIntroduced, Level = LogLevel.Information, Message = "Link {LinkName}: introduced producer {Producer} (pid {ProducerPid}) to consumer {Consumer} (pid {ConsumerPid}).")]
        public static partial void LinkIntroduced(ILogger logger, string linkName, string producer, int producerPid, string consumer, int consumerPid);

        [LoggerMessage(EventId = LogEvents.StandbyReady, Level = LogLevel.Debug, Message = "Worker {WorkerName} has a warm standby: pid {WorkerPid}, incarnation {WorkerIncarnation}, ready in {StartMilliseconds:0.0} ms.")]
        public static partial void StandbyReady(ILogger logger, string workerName, int workerPid, int workerIncarnation, double startMilliseconds);

        [LoggerMessage(EventId = LogEvents.ShutdownTimeoutPassed, Level = LogLevel.Warning, Message = "The host's shutdown timeout passed while workers are still stopping; each worker keeps its own stop budget (StopTimeout, TerminateTimeout).")]
        public static partial void ShutdownTimeoutPassed(ILogger logger);

        [LoggerMessage(EventId = LogEvents.InitialStartFailed, Level = LogLevel.Critical, Message = "Worker {WorkerName} failed to start with the host: {Exit}. Stopping the workers started before it, in reverse order; the host's start fails.")]
        public static partial void InitialStartFailed(ILogger logger, string workerName, string exit);

        [LoggerMessage(EventId = LogEvents.SupervisorLoopFailed, Level = LogLevel.Critical, Message = "The supervisor's loop failed; stopping the host.")]
        public static partial void LoopFailed(ILogger logger, Exception exception);
    }
}
