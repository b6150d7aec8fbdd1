using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;servers/bootstrap.h&gt;</c> (launchd's name service).</summary>
internal static partial class Interop
{
    /// <summary><c>bootstrap_register2</c>: publishes a send right under a name (passing <see cref="MACH_PORT_NULL"/> withdraws it).</summary>
    [LibraryImport(Libraries.System, EntryPoint = "bootstrap_register2")]
    internal static unsafe partial int BootstrapRegister2(uint bootstrapPort, byte* serviceName, uint servicePort, ulong flags);

    /// <summary><c>bootstrap_look_up</c>: gets a send right to the port published under a name.</summary>
    [LibraryImport(Libraries.System, EntryPoint = "bootstrap_look_up")]
    internal static unsafe partial int BootstrapLookUp(uint bootstrapPort, byte* serviceName, uint* servicePort);

    internal const int BOOTSTRAP_SUCCESS = 0;
    internal const int BOOTSTRAP_NOT_PRIVILEGED = 1100;
    internal const int BOOTSTRAP_NAME_IN_USE = 1101;
    internal const int BOOTSTRAP_UNKNOWN_SERVICE = 1102;
    internal const int BOOTSTRAP_SERVICE_ACTIVE = 1103;

    /// <summary><c>sizeof(name_t)</c>: a service name holds at most 127 bytes and its NUL.</summary>
    internal const int BOOTSTRAP_MAX_NAME_LEN = 128;
}
