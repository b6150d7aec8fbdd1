using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// What the supervisor tells the worker's two stages, carried in one environment variable
/// (<see cref="StageProtocol.ConfigVariable"/>) as <c>key=value</c> pairs joined by <c>&amp;</c>, every value and
/// list item percent-escaped (so paths may hold any character but NUL).
/// </summary>
internal sealed record StageConfig
{
    /// <summary>
    /// The format version; a worker refuses a config it does not know. 2 added <c>fork</c>
    /// (<see cref="AllowProcessCreation"/>): a worker of version 1 would ignore it and allow fork, so it must refuse.
    /// 3 added the <see cref="SandboxLayers.PrivateRoot"/> layer, <c>disk</c>, <c>server</c>, <c>uconnect</c> (a
    /// worker of version 2 would skip the private root and leave connect allowed) and <c>data</c>
    /// (<see cref="MaxDataBytes"/>), which an older worker would leave unapplied.
    /// </summary>
    public const int CurrentVersion = 3;

    /// <summary>The layers to apply (already reduced to what the machine has).</summary>
    public SandboxLayers Layers { get; init; }

    /// <summary>The layers that may turn out to be missing in the worker without failing the start.</summary>
    public SandboxLayers AllowMissing { get; init; }

    /// <summary>The worker's private directory (read-write).</summary>
    public string WorkerDirectory { get; init; } = "";

    /// <summary>Extra read-only paths.</summary>
    public IReadOnlyList<string> ReadOnlyPaths { get; init; } = [];

    /// <summary>Extra read-write paths.</summary>
    public IReadOnlyList<string> ReadWritePaths { get; init; } = [];

    /// <summary>TCP ports the worker may connect to.</summary>
    public IReadOnlyList<int> TcpConnectPorts { get; init; } = [];

    /// <summary>TCP ports the worker may bind.</summary>
    public IReadOnlyList<int> TcpBindPorts { get; init; } = [];

    /// <summary><c>RLIMIT_NOFILE</c>, or null.</summary>
    public long? MaxOpenFiles { get; init; }

    /// <summary><c>RLIMIT_NPROC</c>, or null.</summary>
    public long? MaxProcesses { get; init; }

    /// <summary><c>RLIMIT_FSIZE</c>, or null.</summary>
    public long? MaxFileSizeBytes { get; init; }

    /// <summary><c>RLIMIT_DATA</c>, or null.</summary>
    public long? MaxDataBytes { get; init; }

    /// <summary>The GC heap hard limit (set through the environment; stage 2 fails fast on OOM when set).</summary>
    public long? MaxGcHeapBytes { get; init; }

    /// <summary>Descriptors above 2 that survive the clean start.</summary>
    public IReadOnlyList<int> InheritedFileDescriptors { get; init; } = [];

    /// <summary>The environment variable names the real worker keeps.</summary>
    public IReadOnlyList<string> Environment { get; init; } = [];

    /// <summary>The seccomp action for denied calls.</summary>
    public SeccompDenyAction SeccompDenyAction { get; init; }

    /// <summary>Whether seccomp allows non-AF_UNIX sockets.</summary>
    public bool AllowInternetSockets { get; init; }

    /// <summary>Whether seccomp allows creating processes (fork, vfork, clone without CLONE_THREAD).</summary>
    public bool AllowProcessCreation { get; init; }

    /// <summary>The namespaces the launcher prefix creates (so stage 1 may build the read-only mount view).</summary>
    public SandboxNamespaces Namespaces { get; init; }

    /// <summary>The worker's cgroup v2 directory to join, or null.</summary>
    public string? CgroupDirectory { get; init; }

    /// <summary>The size of the private directory's tmpfs in the private root, or null for the kernel's default.</summary>
    public long? MaxDiskBytes { get; init; }

    /// <summary>
    /// The environment variable holding the name of the server stage 1 connects the worker to before it confines it,
    /// or null for none.
    /// </summary>
    public string? ServerVariable { get; init; }

    /// <summary>Whether seccomp allows <c>connect</c>.</summary>
    public bool AllowUnixConnect { get; init; }

    /// <summary>Encodes the config.</summary>
    /// <returns>The variable's value.</returns>
    public string Encode()
    {
        var builder = new StringBuilder();
        Add(builder, "v", CurrentVersion.ToString(CultureInfo.InvariantCulture));
        Add(builder, "layers", ((int)Layers).ToString(CultureInfo.InvariantCulture));
        Add(builder, "missing", ((int)AllowMissing).ToString(CultureInfo.InvariantCulture));
        Add(builder, "dir", WorkerDirectory);
        AddList(builder, "ro", ReadOnlyPaths);
        AddList(builder, "rw", ReadWritePaths);
        AddList(builder, "connect", Numbers(TcpConnectPorts));
        AddList(builder, "bind", Numbers(TcpBindPorts));
        AddLong(builder, "nofile", MaxOpenFiles);
        AddLong(builder, "nproc", MaxProcesses);
        AddLong(builder, "fsize", MaxFileSizeBytes);
        AddLong(builder, "gcheap", MaxGcHeapBytes);
        AddLong(builder, "data", MaxDataBytes);
        AddList(builder, "fds", Numbers(InheritedFileDescriptors));
        AddList(builder, "env", Environment);
        Add(builder, "deny", ((int)SeccompDenyAction).ToString(CultureInfo.InvariantCulture));
        Add(builder, "inet", AllowInternetSockets ? "1" : "0");
        Add(builder, "fork", AllowProcessCreation ? "1" : "0");
        Add(builder, "ns", ((int)Namespaces).ToString(CultureInfo.InvariantCulture));
        if (CgroupDirectory is not null)
        {
            Add(builder, "cgroup", CgroupDirectory);
        }

        AddLong(builder, "disk", MaxDiskBytes);
        if (ServerVariable is not null)
        {
            Add(builder, "server", ServerVariable);
        }

        Add(builder, "uconnect", AllowUnixConnect ? "1" : "0");
        return builder.ToString();
    }

    /// <summary>Decodes a config written by <see cref="Encode"/>.</summary>
    /// <param name="text">The variable's value.</param>
    /// <returns>The config.</returns>
    /// <exception cref="SandboxException">The text is not a config of this version.</exception>
    public static StageConfig Decode(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Malformed($"'{pair}' is not key=value");
            }

            fields[pair[..equals]] = pair[(equals + 1)..];
        }

        if (!fields.TryGetValue("v", out string? version) || version != CurrentVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw Malformed($"version '{version}' is not {CurrentVersion}");
        }

        return new StageConfig
        {
            Layers = (SandboxLayers)Int(fields, "layers"),
            AllowMissing = (SandboxLayers)Int(fields, "missing"),
            WorkerDirectory = Unescape(Required(fields, "dir")),
            ReadOnlyPaths = List(fields, "ro"),
            ReadWritePaths = List(fields, "rw"),
            TcpConnectPorts = Ints(List(fields, "connect")),
            TcpBindPorts = Ints(List(fields, "bind")),
            MaxOpenFiles = OptionalLong(fields, "nofile"),
            MaxProcesses = OptionalLong(fields, "nproc"),
            MaxFileSizeBytes = OptionalLong(fields, "fsize"),
            MaxGcHeapBytes = OptionalLong(fields, "gcheap"),
            MaxDataBytes = OptionalLong(fields, "data"),
            InheritedFileDescriptors = Ints(List(fields, "fds")),
            Environment = List(fields, "env"),
            SeccompDenyAction = (SeccompDenyAction)Int(fields, "deny"),
            AllowInternetSockets = Int(fields, "inet") != 0,
            AllowProcessCreation = Int(fields, "fork") != 0,
            Namespaces = (SandboxNamespaces)Int(fields, "ns"),
            CgroupDirectory = fields.TryGetValue("cgroup", out string? cgroup) ? Unescape(cgroup) : null,
            MaxDiskBytes = OptionalLong(fields, "disk"),
            ServerVariable = fields.TryGetValue("server", out string? server) ? Unescape(server) : null,
            AllowUnixConnect = Int(fields, "uconnect") != 0,
        };
    }

    private static void Add(StringBuilder builder, string key, string value)
    {
        if (builder.Length > 0)
        {
            builder.Append('&');
        }

        builder.Append(key).Append('=').Append(PercentEncoding.Escape(value));
    }

    private static void AddLong(StringBuilder builder, string key, long? value)
    {
        if (value.HasValue)
        {
            Add(builder, key, value.Value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void AddList(StringBuilder builder, string key, IReadOnlyList<string> items)
    {
        // Each item is escaped (',' becomes %2C), then the joined list is escaped once more by Add.
        var escaped = new string[items.Count];
        for (int i = 0; i < escaped.Length; i++)
        {
            escaped[i] = PercentEncoding.Escape(items[i]);
        }

        Add(builder, key, string.Join(',', escaped));
    }

    private static string[] Numbers(IReadOnlyList<int> values)
    {
        var text = new string[values.Count];
        for (int i = 0; i < text.Length; i++)
        {
            text[i] = values[i].ToString(CultureInfo.InvariantCulture);
        }

        return text;
    }

    private static int[] Ints(string[] text)
    {
        var values = new int[text.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = ParseInt(text[i]);
        }

        return values;
    }

    private static string Unescape(string text)
    {
        try
        {
            return PercentEncoding.Unescape(text);
        }
        catch (FormatException e)
        {
            throw Malformed(e.Message);
        }
    }

    private static string Required(Dictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out string? value) ? value : throw Malformed($"'{key}' is missing");

    private static int Int(Dictionary<string, string> fields, string key) => ParseInt(Unescape(Required(fields, key)));

    private static long? OptionalLong(Dictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out string? value)
            ? long.TryParse(Unescape(value), NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) ? parsed : throw Malformed($"'{key}' is not a number")
            : null;

    private static string[] List(Dictionary<string, string> fields, string key)
    {
        string joined = Unescape(Required(fields, key));
        if (joined.Length == 0)
        {
            return [];
        }

        string[] items = joined.Split(',');
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = Unescape(items[i]);
        }

        return items;
    }

    private static int ParseInt(string text) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value : throw Malformed($"'{text}' is not a number");

    private static SandboxException Malformed(string what) =>
        new($"The sandbox configuration passed to this worker is malformed ({what}); the worker and its supervisor must be the same IpcChannel.Sandbox version.");
}
