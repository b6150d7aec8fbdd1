using System;
using System.Threading.Tasks;

namespace IpcChannel.Transport.MacOS.Tests.Support;

/// <summary>Bounds every await in tests.</summary>
public static class TaskTimeoutExtensions
{
    /// <summary>The default bound for an await that should complete promptly.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>Awaits with a bound.</summary>
    public static Task WithTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    /// <summary>Awaits with a bound.</summary>
    public static Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    /// <summary>Awaits with a bound.</summary>
    public static Task WithTimeout(this ValueTask task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);

    /// <summary>Awaits with a bound.</summary>
    public static Task<T> WithTimeout<T>(this ValueTask<T> task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);
}
