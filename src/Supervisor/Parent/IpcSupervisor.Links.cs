using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using IpcChannel.Supervisor.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IpcChannel.Supervisor.Parent;

/// <summary>The supervisor: links.</summary>
internal sealed partial class IpcSupervisor
{

    private void IntroduceLinks(WorkerSlot started)
    {
        foreach (IpcWorkerLinkRegistration link in _links)
        {
            if (link.Producer != started.Name && link.Consumer != started.Name)
            {
                continue;
            }

            if (_byName.TryGetValue(link.Consumer, out WorkerSlot? consumer) && consumer.Current is { Connected: true } run && !run.Ended.IsCompleted
                && _byName.TryGetValue(link.Producer, out WorkerSlot? producer) && producer.State is IpcWorkerState.Running)
            {
                TrySend(run, new ControlDown { Kind = ControlDownKind.LinkRequest, LinkName = link.Name });
            }
        }
    }

    private void ForwardLinkSender(WorkerSlot consumer, string linkName, OpaqueIpcSender sender)
    {
        IpcWorkerLinkRegistration? link = _links.FirstOrDefault(l => l.Name == linkName && l.Consumer == consumer.Name);
        if (link is null || !_byName.TryGetValue(link.Producer, out WorkerSlot? producer) || producer.Current is not { Connected: true } run || run.Ended.IsCompleted)
        {
            sender.Dispose();
            return;
        }

        if (TrySend(run, new ControlDown { Kind = ControlDownKind.LinkSender, LinkName = linkName, Sender = sender }))
        {
            int consumerPid = consumer.Current?.Scope.Pid ?? 0;
            Log.LinkIntroduced(_logger, linkName, link.Producer, run.Scope.Pid, link.Consumer, consumerPid);
        }
        else
        {
            sender.Dispose();
        }
    }

    /// <summary>
    /// Queues a control message for <paramref name="run"/> without blocking (see <see cref="WorkerRun.Post"/>). A worker
    /// whose outbox is full is not reading its control channel: it is killed, so that it delays no one.
    /// </summary>
    /// <returns>Whether the message was queued; when not, the caller still owns the handles it carries.</returns>
    internal bool TrySend(WorkerRun run, ControlDown message)
    {
        switch (run.Post(message))
        {
            case OutboxPost.Queued:
                return true;
            case OutboxPost.Full:
                Kill(run, OutboxFullReason);
                return false;
            default:
                return false;
        }
    }

    /// <summary>Why a worker whose control outbox filled up is killed.</summary>
    internal static readonly string OutboxFullReason =
        $"not reading its control channel: {WorkerRun.OutboxCapacity} control messages were waiting unsent";
}
