namespace IpcChannel.Transport.MacOS;

/// <summary>Bindings for <c>&lt;mach/kern_return.h&gt;</c>.</summary>
internal static partial class Interop
{
    internal const int KERN_SUCCESS = 0;
    internal const int KERN_INVALID_ADDRESS = 1;
    internal const int KERN_PROTECTION_FAILURE = 2;
    internal const int KERN_NO_SPACE = 3;
    internal const int KERN_INVALID_ARGUMENT = 4;
    internal const int KERN_FAILURE = 5;
    internal const int KERN_RESOURCE_SHORTAGE = 6;
    internal const int KERN_NOT_RECEIVER = 7;
    internal const int KERN_NO_ACCESS = 8;
    internal const int KERN_ALREADY_IN_SET = 11;
    internal const int KERN_NOT_IN_SET = 12;
    internal const int KERN_NAME_EXISTS = 13;
    internal const int KERN_INVALID_NAME = 15;
    internal const int KERN_INVALID_TASK = 16;
    internal const int KERN_INVALID_RIGHT = 17;
    internal const int KERN_INVALID_VALUE = 18;
    internal const int KERN_UREFS_OVERFLOW = 19;
    internal const int KERN_INVALID_CAPABILITY = 20;
    internal const int KERN_RIGHT_EXISTS = 21;
    internal const int KERN_INVALID_OBJECT = 29;
}
