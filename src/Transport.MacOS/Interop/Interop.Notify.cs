namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;mach/notify.h&gt;</c>.</summary>
internal static partial class Interop
{
    /// <summary><c>MACH_NOTIFY_FIRST</c> (octal 0100).</summary>
    internal const int MACH_NOTIFY_FIRST = 64;
    internal const int MACH_NOTIFY_PORT_DELETED = MACH_NOTIFY_FIRST + 1;
    internal const int MACH_NOTIFY_SEND_POSSIBLE = MACH_NOTIFY_FIRST + 2;
    internal const int MACH_NOTIFY_PORT_DESTROYED = MACH_NOTIFY_FIRST + 5;

    /// <summary><c>MACH_NOTIFY_NO_SENDERS</c> (70): the last send right of a port is gone.</summary>
    internal const int MACH_NOTIFY_NO_SENDERS = MACH_NOTIFY_FIRST + 6;
    internal const int MACH_NOTIFY_SEND_ONCE = MACH_NOTIFY_FIRST + 7;
    internal const int MACH_NOTIFY_DEAD_NAME = MACH_NOTIFY_FIRST + 8;

    /// <summary><c>MACH_NOTIFY_LAST</c> (octal 0115).</summary>
    internal const int MACH_NOTIFY_LAST = MACH_NOTIFY_FIRST + 13;

    /// <summary><c>sizeof(NDR_record_t)</c>.</summary>
    internal const int NDR_RECORD_SIZE = 8;

    /// <summary>The <c>msgh_size</c> of <c>mach_no_senders_notification_t</c> without its trailer: header, NDR record, <c>not_count</c>.</summary>
    internal const int MACH_NO_SENDERS_NOTIFICATION_SIZE = 24 + NDR_RECORD_SIZE + 4;
}
