using System;

namespace IpcChannel.Supervisor.Parent;

/// <summary>One <c>AddIpcWorker</c> call in the parent, in registration order.</summary>
internal sealed record IpcWorkerRegistration(string Name, Type WorkerType, Func<string, int, IpcWorkerOptions, WorkerSlot> CreateSlot);

/// <summary>One <c>AddIpcWorkerLink</c> call: the consumer makes the channel, the producer gets its sender.</summary>
internal sealed record IpcWorkerLinkRegistration(string Name, string Producer, string Consumer);
