using System.Runtime.InteropServices;

namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;mach/mach_init.h&gt;</c> and <c>&lt;mach/task.h&gt;</c>.</summary>
internal static partial class Interop
{
    /// <summary><c>TASK_BOOTSTRAP_PORT</c> (<c>&lt;mach/task_special_ports.h&gt;</c>).</summary>
    internal const int TASK_BOOTSTRAP_PORT = 4;

    /// <summary>
    /// <c>mach_task_self()</c>: a macro over the exported global <c>mach_task_self_</c>, which libSystem fills at
    /// start-up and never changes; read once, on first use (only ever on macOS).
    /// </summary>
    internal static uint MachTaskSelf => TaskSelf.Value;

    [LibraryImport(Libraries.System, EntryPoint = "task_get_special_port")]
    internal static unsafe partial int TaskGetSpecialPort(uint task, int which, uint* specialPort);

    private static class TaskSelf
    {
        internal static readonly uint Value = Read();

        private static unsafe uint Read()
        {
            nint library = NativeLibrary.Load(Libraries.System);
            return *(uint*)NativeLibrary.GetExport(library, "mach_task_self_");
        }
    }
}
