using System;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using IpcChannel.Supervisor;

namespace HostedWorkers;

/// <summary>
/// Hashes texts in its own (sandboxed) process. The text "boom" makes it crash hard (it fails fast, as a
/// segfault would): the supervisor restarts it and the app keeps serving.
/// </summary>
public sealed class Hasher : IpcWorker<HashRequest, HashResult>
{
    protected override ValueTask<HashResult> OnRequestAsync(HashRequest request, CancellationToken cancellationToken)
    {
        if (request.Text == "boom")
        {
            Environment.FailFast("the hasher was told to crash");
        }

        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(request.Text)))[..16];
        return ValueTask.FromResult(new HashResult(request.Text, hash, Environment.ProcessId, Incarnation));
    }
}
