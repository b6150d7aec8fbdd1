using IpcChannel.Supervisor;

// The benchmark's echo worker as its own executable, published with NativeAOT: the statically typed lean entry point.
Phases.Mark("child: Main entered");
return await IpcWorkerHost.RunAsync<EchoWorker, string, string>(args);
