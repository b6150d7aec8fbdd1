using System;
using IpcChannel.Supervisor;
using IpcChannel.Supervisor.AotWorker;

// A NativeAOT worker executable: the statically typed lean entry point, one worker type per launch name.
return IpcWorkerEnvironment.WorkerName switch
{
    string name when name.StartsWith("aot-sum", StringComparison.Ordinal) => await IpcWorkerHost.RunAsync<AotSumWorker, int, long>(args),
    string name when name.StartsWith("aot-relay", StringComparison.Ordinal) =>
        await IpcWorkerHost.RunAsync<AotRelayWorker, string, string>(args, configure: o => o.UseMessageResolver(PointResolver.Instance)),
    string name when name.StartsWith("aot-point", StringComparison.Ordinal) =>
        await IpcWorkerHost.RunAsync<AotPointWorker, Point, Point>(args, configure: o => o.UseMessageResolver(PointResolver.Instance)),
    string => await IpcWorkerHost.RunAsync<AotEchoWorker, string, string>(args),
    null => Fail(),
};

static int Fail()
{
    Console.Error.WriteLine("IpcChannel.Supervisor.AotWorker runs only as a worker launched by a supervisor.");
    return 2;
}
