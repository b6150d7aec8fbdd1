using System.Collections;
using System.Collections.Generic;

namespace IpcChannel.Supervisor.Parent;

/// <summary>The logging scope of everything that concerns one worker incarnation: name, pid, incarnation.</summary>
internal sealed class WorkerScope(string name, int pid, int incarnation) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public string Name { get; } = name;

    public int Pid { get; set; } = pid;

    public int Incarnation { get; } = incarnation;

    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("WorkerName", Name),
        1 => new("WorkerPid", Pid),
        _ => new("WorkerIncarnation", Incarnation),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"worker {Name} (pid {Pid}, incarnation {Incarnation})";
}
