using IpcChannel;

namespace IpcChannel.Sandbox.TestWorker;

/// <summary>What the sandboxed worker sends the test over IpcOneShotServer.</summary>
/// <param name="Pid">The worker's PID (as it sees it).</param>
/// <param name="Inbox">A new channel's sender, for the test's reply.</param>
/// <param name="Blob">Shared memory made inside the sandbox.</param>
public record WorkerHello(int Pid, IpcSender<TestReply> Inbox, IpcSharedMemory Blob);

/// <summary>The test's reply, on the channel the worker made.</summary>
/// <param name="Text">Free text.</param>
/// <param name="Blob">Shared memory made by the test, mapped by the worker.</param>
public record TestReply(string Text, IpcSharedMemory Blob);
