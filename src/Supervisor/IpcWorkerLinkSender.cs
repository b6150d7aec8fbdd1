using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace IpcChannel.Supervisor;

/// <summary>
/// Sends on a brokered link to whichever incarnation of the consumer worker is current. While there is none
/// (not introduced yet, or the consumer restarting) a send waits, bounded; a send that failed because the
/// consumer died is retried on the next consumer, so it either arrives or throws.
/// </summary>
/// <typeparam name="T">The link's message type.</typeparam>
/// <remarks>Thread-safe. Messages the dead consumer had queued but not read are lost with it.</remarks>
public sealed class IpcWorkerLinkSender<T>
{
    private readonly ProducerEnd _end;
    private readonly TimeSpan _wait;

    internal IpcWorkerLinkSender(string link, ProducerEnd end, TimeSpan wait)
    {
        LinkName = link;
        _end = end;
        _wait = wait;
    }

    /// <summary>The link's name.</summary>
    public string LinkName { get; }

    /// <summary>Sends a message to the link's consumer.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the message is queued to the consumer.</returns>
    /// <exception cref="IpcWorkerUnavailableException">No consumer within the link wait.</exception>
    public async ValueTask SendAsync(T message, CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            IpcSender<T>? sender = _end.TryGet<T>(out Task available);
            if (sender is null)
            {
                TimeSpan left = _wait - Stopwatch.GetElapsedTime(start);
                try
                {
                    await available.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException e)
                {
                    throw new IpcWorkerUnavailableException(LinkName, IpcWorkerState.Restarting, _wait, e);
                }

                continue;
            }

            try
            {
                await sender.SendAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is IpcDisconnectedException or ObjectDisposedException)
            {
                _end.Invalidate(sender);
            }
        }
    }
}
