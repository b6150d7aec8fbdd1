namespace IpcChannel.Supervisor.Protocol;

/// <summary>Kinds of data messages from the parent.</summary>
internal enum DownKind
{
    /// <summary>A one-way message.</summary>
    Message = 1,

    /// <summary>A request that wants a <see cref="UpKind.Response"/> or <see cref="UpKind.Fault"/> with the same id.</summary>
    Request = 2,
}

/// <summary>Kinds of data messages from a worker.</summary>
internal enum UpKind
{
    /// <summary>A message the worker sent on its own.</summary>
    Message = 1,

    /// <summary>The answer to a request.</summary>
    Response = 2,

    /// <summary>The request handler threw; <see cref="UpEnvelope{T}.ErrorType"/> and <see cref="UpEnvelope{T}.Error"/> say what.</summary>
    Fault = 3,
}

/// <summary>A data message from the parent to a worker.</summary>
/// <typeparam name="T">The worker's input type.</typeparam>
internal readonly record struct DownEnvelope<T>(DownKind Kind, long Id, T Payload);

/// <summary>A data message from a worker to the parent.</summary>
/// <typeparam name="T">The worker's output type.</typeparam>
internal readonly record struct UpEnvelope<T>(UpKind Kind, long Id, T? Payload, string? ErrorType = null, string? Error = null);
