namespace IpcChannel.Supervisor;

/// <summary>Which workers a restart affects (Erlang/OTP's supervisor <c>strategy</c>), across the workers of one host in registration order.</summary>
public enum IpcRestartStrategy
{
    /// <summary>Only the worker that ended is restarted (OTP <c>one_for_one</c>).</summary>
    OneForOne,

    /// <summary>Every other worker is stopped (in reverse order) and all are started again in order (OTP <c>one_for_all</c>).</summary>
    OneForAll,

    /// <summary>The workers registered after the one that ended are stopped (in reverse order), then it and they are started again in order (OTP <c>rest_for_one</c>).</summary>
    RestForOne,
}
