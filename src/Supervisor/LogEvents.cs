namespace IpcChannel.Supervisor;

/// <summary>The supervisor's logging event ids, in one place: 7000-7099 parent, 7100-7199 child (the sandbox library's own are 8000-8099).</summary>
internal static class LogEvents
{
    public const int WorkerStarted = 7000;
    public const int WorkerExited = 7001;
    public const int WorkerRestarting = 7002;
    public const int WorkerNotRestarted = 7003;
    public const int GaveUp = 7004;
    public const int WorkerKilled = 7005;
    public const int WorkerStopping = 7006;
    public const int WorkerStopped = 7007;
    public const int WorkerStartFailed = 7008;
    public const int WorkerStdout = 7010;
    public const int WorkerStderr = 7011;
    public const int BootstrapRefused = 7012;
    public const int ProtocolViolation = 7013;
    public const int Escalating = 7014;
    public const int LinkIntroduced = 7015;
    public const int SupervisorLoopFailed = 7016;
    public const int BootstrapFailed = 7017;
    public const int StandbyReady = 7018;
    public const int SandboxOff = 7019;
    public const int SandboxNotLinux = 7020;
    public const int SandboxCleanupFailed = 7021;
    public const int SandboxSwept = 7022;
    public const int SandboxSweepFailed = 7023;
    public const int ShutdownTimeoutPassed = 7030;
    public const int InitialStartFailed = 7031;
    public const int WorkerLogsDropped = 7032;

    public const int ChildCompleted = 7100;
    public const int ChildCrashed = 7101;
    public const int ChildRequestFailed = 7102;
    public const int ChildMalformed = 7103;
    public const int ChildStopRequested = 7104;
    public const int ChildStopTimedOut = 7105;
    public const int ChildSandboxed = 7106;
}
