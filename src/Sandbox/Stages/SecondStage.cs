using System;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Microsoft.Win32.SafeHandles;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// Stage 2: runs in the real worker (exec'd by stage 1) before it touches untrusted data or connects back. Installs
/// the seccomp filter on every thread at once and proves, from /proc, that no thread escaped.
/// </summary>
internal static class SecondStage
{
    /// <summary>Applies the in-process layers.</summary>
    /// <param name="config">The stage configuration.</param>
    /// <param name="fromFirstStage">The layers stage 1 applied.</param>
    /// <param name="landlockAbi">The Landlock ABI stage 1 used.</param>
    /// <returns>What the worker runs under.</returns>
    /// <exception cref="SandboxException">A layer is missing (and not allowed to be), failed, or a thread is not covered.</exception>
    public static SandboxStatus Apply(StageConfig config, SandboxLayers fromFirstStage, int landlockAbi)
    {
        SandboxLayers applied = fromFirstStage;
        if ((config.Layers & SandboxLayers.CleanStart) != 0
            && Interop.Prctl(Interop.PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        {
            // Not dumpable: no core file, and no ptrace or /proc/pid/mem access from other processes of the same user.
            throw Errors.Last(SandboxLayers.CleanStart, "prctl(PR_SET_DUMPABLE, 0)");
        }

        if ((config.Layers & SandboxLayers.Seccomp) != 0)
        {
            SeccompArchitecture? arch = SeccompArchitecture.Current;
            if (arch is null || !SeccompFilter.ProbeTsync(arch))
            {
                if ((config.AllowMissing & SandboxLayers.Seccomp) == 0)
                {
                    throw new SandboxException(
                        SandboxLayers.Seccomp,
                        $"Sandbox layer Seccomp is not available in the worker ({(arch is null ? "no filter for this architecture" : "no seccomp filter with TSYNC")}); the worker refuses to start.");
                }

                FirstStage.Warn("running without sandbox layer Seccomp, as configured.");
            }
            else
            {
                SeccompFilter.InstallOnAllThreads(arch, SeccompFilter.Build(arch, config.SeccompDenyAction, config.AllowInternetSockets, config.AllowProcessCreation, config.AllowUnixConnect));
                applied |= SandboxLayers.Seccomp;
            }
        }

        int threads = ThreadAudit.Verify(
            seccomp: (applied & SandboxLayers.Seccomp) != 0,
            noNewPrivs: (applied & SandboxLayers.NoNewPrivileges) != 0);

        if ((applied & SandboxLayers.ResourceLimits) != 0 && (config.MaxGcHeapBytes is not null || config.MaxDataBytes is not null))
        {
            // The GC heap hard limit and RLIMIT_DATA (a failed malloc or mmap in the runtime or NativeMemory) surface as
            // OutOfMemoryException, which code may catch; the cap must end the worker instead, so that it dies alone
            // and is restarted.
            AppDomain.CurrentDomain.FirstChanceException += FailFastOnOutOfMemory;
        }

        Environment.SetEnvironmentVariable(StageProtocol.StageVariable, null);
        Environment.SetEnvironmentVariable(StageProtocol.ConfigVariable, null);
        return new SandboxStatus(applied, landlockAbi, threads, TakeConnection(config));
    }

    /// <summary>
    /// The connection stage 1 opened, from <see cref="StageProtocol.ConnectionVariable"/>, which is removed. Made
    /// close-on-exec again here, so nothing the worker might start inherits it.
    /// </summary>
    /// <exception cref="SandboxException">The launch named a server but stage 1 handed over no descriptor.</exception>
    private static SafeFileHandle? TakeConnection(StageConfig config)
    {
        string? value = Environment.GetEnvironmentVariable(StageProtocol.ConnectionVariable);
        Environment.SetEnvironmentVariable(StageProtocol.ConnectionVariable, null);
        if (config.ServerVariable is null)
        {
            return null;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int fd) || fd < 3)
        {
            throw new SandboxException($"Sandbox: stage 1 connected this worker to the server in {config.ServerVariable} but {StageProtocol.ConnectionVariable} holds no descriptor ('{value}').");
        }

        var connection = new SafeFileHandle(fd, ownsHandle: true);
        if (Interop.Fcntl(connection, Interop.Sockets.F_SETFD, Interop.FD_CLOEXEC) != 0)
        {
            SandboxException error = Errors.Last(SandboxLayers.None, $"fcntl(F_SETFD, FD_CLOEXEC) on descriptor {fd} from {StageProtocol.ConnectionVariable}");
            connection.Dispose();
            throw error;
        }

        return connection;
    }

    private static void FailFastOnOutOfMemory(object? sender, FirstChanceExceptionEventArgs e)
    {
        if (e.Exception is OutOfMemoryException)
        {
            Environment.FailFast("ipcchannel-sandbox: the worker exceeded its memory cap (GC heap hard limit or RLIMIT_DATA); exiting.");
        }
    }
}
