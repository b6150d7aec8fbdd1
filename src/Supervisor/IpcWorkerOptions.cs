using System;
using System.Collections.Generic;
using IpcChannel.Supervisor.Sandbox;
using MessagePack;

namespace IpcChannel.Supervisor;

/// <summary>
/// One worker's options (named options, the name is the worker's). Bound from
/// <c>IpcSupervisor:Workers:{name}</c> after the code's <c>configure</c> delegate, so configuration wins,
/// and validated at host start.
/// </summary>
public sealed class IpcWorkerOptions
{
    private IFormatterResolver? _messageResolver;

    /// <summary>When it is restarted. Default <see cref="IpcRestartType.Permanent"/>.</summary>
    public IpcRestartType Restart { get; set; } = IpcRestartType.Permanent;

    /// <summary>How long a launched worker has to connect back and say hello; then it is killed and counted as a crash. Default 10 s.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a worker has to exit after the graceful stop message; then it gets SIGTERM. Default 5 s.
    /// <see cref="TimeSpan.Zero"/> is OTP's <c>brutal_kill</c>: SIGKILL at once, no message.
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> is OTP's <c>infinity</c>: the stop message, then no
    /// limit. A worker whose channels closed has this long to exit too (<see cref="TerminateTimeout"/> when this is zero)
    /// before it is killed as a crash.
    /// </summary>
    /// <remarks>The budget applies in full whoever stops the worker: the host's <c>HostOptions.ShutdownTimeout</c> does
    /// not cut it short. Workers are stopped one after another, so the host's stop takes up to the sum of its workers'
    /// <c>StopTimeout + TerminateTimeout</c>; keep an outer limit (systemd's <c>TimeoutStopSec=</c>, Kubernetes'
    /// <c>terminationGracePeriodSeconds</c>) above it.</remarks>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a worker has to exit after SIGTERM; then it gets SIGKILL. Default 2 s.</summary>
    public TimeSpan TerminateTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the parent pings the worker; <see cref="TimeSpan.Zero"/> turns heartbeats off. Default 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A worker that has not answered a ping for this long is deemed hung, killed and counted as a crash.
    /// Must exceed <see cref="HeartbeatInterval"/>. Default 5 s.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>What sends and requests do while the worker is down. Default <see cref="IpcUnavailablePolicy.Wait"/>.</summary>
    public IpcUnavailablePolicy UnavailablePolicy { get; set; } = IpcUnavailablePolicy.Wait;

    /// <summary>How long a send or request waits for a down worker under <see cref="IpcUnavailablePolicy.Wait"/>. Default 10 s.</summary>
    public TimeSpan UnavailableTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The default timeout of <see cref="IpcWorkerClient{TIn, TOut}.RequestAsync"/>. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many messages the worker sent on its own may wait in the parent until they are read; then the
    /// worker's sends wait (back-pressure). Default 1024.</summary>
    public int InboxCapacity { get; set; } = 1024;

    /// <summary>The default of <see cref="MaxMessageSize"/>: 4 MiB.</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>
    /// The largest message, in bytes, the parent accepts from this worker on any of its channels (data up, control:
    /// pongs, log records, link senders). A message that declares more is refused at its declared size, before
    /// anything of it is allocated, mapped or read, and the worker is stopped as a protocol violation whose reason
    /// names the size and the limit (it is restarted as its restart type allows). Between 1 and 2 GiB − 1; default
    /// <see cref="DefaultMaxMessageSize"/> (4 MiB). Raise it for a worker whose answers are larger; large blobs are
    /// cheaper as <see cref="IpcSharedMemory"/> in a message (mapped, not copied, and not counted here).
    /// </summary>
    public int MaxMessageSize { get; set; } = DefaultMaxMessageSize;

    /// <summary>
    /// How many of this worker's forwarded log records the parent writes per second (a token bucket that also allows
    /// a burst of as many). Records beyond it are dropped, and a warning of category
    /// <c>IpcChannel.Workers.{name}</c> says how many, at most once a second, so a worker flooding its log cannot
    /// flood the parent's logging (which every worker and the supervisor share). At least 1; default 1000.
    /// </summary>
    public int MaxLogRecordsPerSecond { get; set; } = 1000;

    /// <summary>
    /// The program to launch as the worker. Null (the default) relaunches the current app: its apphost, or
    /// <c>dotnet app.dll</c> when it was started that way. A path ending in <c>.dll</c> is run through the
    /// <c>dotnet</c> that runs this process. The program must call <c>AddIpcWorker</c> with this worker's name, or
    /// <see cref="IpcWorkerHost"/>'s <c>RunAsync</c> (for a NativeAOT worker executable, the fastest start:
    /// <c>RunAsync&lt;TWorker, TIn, TOut&gt;</c>).
    /// </summary>
    public string? Executable { get; set; }

    /// <summary>The worker's arguments. Null (the default) passes the arguments this process was started with.</summary>
    public IList<string>? Arguments { get; set; }

    /// <summary>The worker's working directory; null (the default) uses this process's.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>Extra environment variables for the worker (added to this process's environment).</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Keep a warm standby: a second process of this worker, launched and connected ahead of time, that waits
    /// without creating the worker. When the worker must restart, the standby is activated at once instead of
    /// cold-starting a process (and a new standby is launched behind it). Costs one idle process per worker.
    /// Default false.
    /// </summary>
    public bool WarmStandby { get; set; }

    /// <summary>
    /// Whether the worker's host reloads its configuration files when they change. Default false: the worker is
    /// launched with <c>DOTNET_hostBuilder__reloadConfigOnChange=false</c>, so a default host
    /// (<c>Host.CreateApplicationBuilder</c>, <c>Host.CreateDefaultBuilder</c>) sets up no file watcher for
    /// <c>appsettings*.json</c>: a watcher costs start time (an inotify thread and a watch on every directory under the
    /// content root) in every worker start, and a restart picks up changed files anyway. Set true to keep the host's
    /// default (reload on change); a value of that variable in <see cref="Environment"/> or in this process's
    /// environment is left alone.
    /// </summary>
    public bool ReloadConfigurationOnChange { get; set; }

    /// <summary>
    /// Serializes this worker's messages with <paramref name="resolver"/>: MessagePack formatters for its message
    /// types (<c>TIn</c>, <c>TOut</c> and what they contain, and the types of its links), consulted before
    /// MessagePack's built-in and contractless resolvers. Without it (or with null) messages are serialized as IpcChannel's default does (contractless:
    /// records and classes need no attributes).
    /// </summary>
    /// <param name="resolver">The formatters; null restores the default.</param>
    /// <returns>These options.</returns>
    /// <remarks>
    /// Both sides must use the same formatters: call it in the parent's <c>AddIpcWorker</c> and in the worker's (for
    /// <see cref="IpcWorkerHost"/>, through its <c>configure</c> argument). Its main use is a NativeAOT worker, which
    /// cannot run the contractless resolver (it generates code at run time): give it hand-written formatters or
    /// ones generated ahead of time. A method rather than a property because it is code, never configuration.
    /// </remarks>
    public IpcWorkerOptions UseMessageResolver(IFormatterResolver? resolver)
    {
        _messageResolver = resolver;
        return this;
    }

    /// <summary>The resolver given to <see cref="UseMessageResolver"/>, if any (a method: the configuration binder
    /// would try to bind a property).</summary>
    internal IFormatterResolver? GetMessageResolver() => _messageResolver;

    /// <summary>Whether the worker's ILogger records are forwarded to the parent's ILogger (in the child, the app's
    /// other logging providers are then removed so nothing is written twice). Default true.</summary>
    public bool ForwardLogs { get; set; } = true;

    /// <summary>
    /// How the worker is sandboxed (Linux). On by default with every layer of docs/sandbox.md: the worker starts
    /// through a first stage that restricts itself and re-executes the worker, in its own namespaces, with a reduced
    /// environment and a private working directory (which replaces <see cref="WorkingDirectory"/>). Loosen a layer
    /// explicitly: remove it from <see cref="SandboxOptions.Layers"/>, allow it to be missing on machines that lack it
    /// with <see cref="SandboxOptions.AllowMissing"/>, widen it with its own options, or set
    /// <see cref="SandboxOptions.Enabled"/> to false. Bound from <c>IpcSupervisor:Workers:{name}:Sandbox</c>.
    /// </summary>
    /// <remarks>
    /// A layer the machine lacks refuses the worker's start (the host does not start) unless it is allowed to be
    /// missing; then a warning is logged at every start. On other operating systems the sandbox does nothing and a
    /// warning is logged at every start. A supervisor running as root gives each live worker a host user of its own
    /// from <see cref="SandboxOptions.UserIdRange"/> (elsewhere the workers share its user, and a warning says so at
    /// every start); <see cref="SandboxOptions.RunAsUserId"/> is therefore not supported by the supervisor.
    /// </remarks>
    public SandboxOptions Sandbox { get; } = new();
}
