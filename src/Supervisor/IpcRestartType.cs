namespace IpcChannel.Supervisor;

/// <summary>When a worker that ended is started again (Erlang/OTP's child <c>restart</c> value).</summary>
public enum IpcRestartType
{
    /// <summary>Always restarted, whatever the exit (OTP <c>permanent</c>; systemd <c>Restart=always</c>).</summary>
    Permanent,

    /// <summary>Restarted only after an abnormal exit: a non-zero exit code, a signal, a hang, or a protocol
    /// violation (OTP <c>transient</c>; systemd <c>Restart=on-failure</c>).</summary>
    Transient,

    /// <summary>Never restarted (OTP <c>temporary</c>; systemd <c>Restart=no</c>).</summary>
    Temporary,
}
