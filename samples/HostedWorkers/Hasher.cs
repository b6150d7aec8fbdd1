using System;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor;

namespace HostedWorkers;

/// <summary>
/// Hashes texts in its own process. The text "boom" makes it crash hard (it kills itself with SIGKILL, as
/// a segfault or the OOM killer would): the supervisor restarts it and the app keeps serving.
/// </summary>
public sealed class Hasher : IpcWorker<HashRequest, HashResult>
{
    protected override ValueTask<HashResult> OnRequestAsync(HashRequest request, CancellationToken cancellationToken)
    {
        if (request.Text == "boom")
        {
            using Process self = Process.GetCurrentProcess();
            self.Kill();
        }

        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(request.Text)))[..16];
        return ValueTask.FromResult(new HashResult(request.Text, hash, Environment.ProcessId, Incarnation));
    }
}
