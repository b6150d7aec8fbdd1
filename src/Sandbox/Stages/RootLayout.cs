using System;
using System.Collections.Generic;
using System.IO;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>
/// What the worker's private root holds, worked out from the host's file tree before anything is mounted: the
/// directories and files to bind (each at its real path), and the symbolic links to recreate so that the paths the
/// worker names still lead there (<c>/lib → usr/lib</c>, <c>/lib64/ld-linux-x86-64.so.2 → …</c>, a symlinked app
/// directory).
/// </summary>
/// <remarks>
/// Nothing is ever created inside a bound directory: a bind covered by an earlier one of the same kind, and a link
/// that lies inside a bind, are already visible through it and are left out. A bind of the other kind inside one
/// (a read-only path inside a read-write one, or the reverse) gets its own mount, after its parent's.
/// </remarks>
internal sealed class RootLayout
{
    /// <summary>The most symbolic links followed while resolving one path (the kernel's limit too).</summary>
    private const int MaxLinks = 40;

    private RootLayout(List<Bind> binds, List<Link> links)
    {
        Binds = binds;
        Links = links;
    }

    /// <summary>The binds, parents before the paths inside them.</summary>
    public IReadOnlyList<Bind> Binds { get; }

    /// <summary>The symbolic links to recreate.</summary>
    public IReadOnlyList<Link> Links { get; }

    /// <summary>Resolves the requested paths on the host. Paths that do not exist are left out.</summary>
    /// <param name="readOnly">Paths the worker may read.</param>
    /// <param name="readWrite">Paths the worker may also write.</param>
    /// <returns>The layout.</returns>
    /// <exception cref="SandboxException">A path has a loop of symbolic links.</exception>
    public static RootLayout Plan(IEnumerable<string> readOnly, IEnumerable<string> readWrite)
    {
        var wanted = new Dictionary<string, bool>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((IEnumerable<string> paths, bool writable) in new[] { (readOnly, false), (readWrite, true) })
        {
            foreach (string path in paths)
            {
                string real = Resolve(path, links);
                if (real != "/" && (Directory.Exists(real) || File.Exists(real)))
                {
                    // A path asked for both ways is writable.
                    wanted[real] = writable || (wanted.TryGetValue(real, out bool before) && before);
                }
            }
        }

        var sorted = new List<string>(wanted.Keys);
        sorted.Sort(StringComparer.Ordinal);
        var binds = new List<Bind>();
        foreach (string path in sorted)
        {
            bool writable = wanted[path];
            Bind? parent = Innermost(binds, path);
            if (parent is null || parent.Writable != writable)
            {
                binds.Add(new Bind(path, writable, Directory.Exists(path)));
            }
        }

        var kept = new List<Link>();
        foreach ((string location, string target) in links)
        {
            if (Innermost(binds, location) is null)
            {
                kept.Add(new Link(location, target));
            }
        }

        kept.Sort((a, b) => StringComparer.Ordinal.Compare(a.Location, b.Location));
        return new RootLayout(binds, kept);
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="directory"/> or lies inside it.</summary>
    /// <param name="path">An absolute path without a trailing slash.</param>
    /// <param name="directory">An absolute path without a trailing slash.</param>
    /// <returns>True when inside or equal.</returns>
    public static bool IsWithin(string path, string directory) =>
        path.Length >= directory.Length
        && path.StartsWith(directory, StringComparison.Ordinal)
        && (path.Length == directory.Length || path[directory.Length] == '/' || directory == "/");

    /// <summary>The innermost bind that holds <paramref name="path"/>, or null.</summary>
    private static Bind? Innermost(List<Bind> binds, string path)
    {
        Bind? found = null;
        foreach (Bind bind in binds)
        {
            if (IsWithin(path, bind.Path) && (found is null || bind.Path.Length > found.Path.Length))
            {
                found = bind;
            }
        }

        return found;
    }

    /// <summary>
    /// Resolves <paramref name="path"/> component by component as the kernel would, recording every symbolic link met
    /// on the way (its location and its text), and returns the real path.
    /// </summary>
    /// <param name="path">An absolute path.</param>
    /// <param name="links">Receives each link met.</param>
    /// <returns>The path with no symbolic link left in it (its last components may not exist).</returns>
    /// <exception cref="SandboxException">More than 40 links were followed.</exception>
    internal static string Resolve(string path, Dictionary<string, string> links)
    {
        // A List used as a stack: Stack<T> lives outside CoreLib, and stage 1 loads nothing else (see docs/sandbox.md).
        var pending = new List<string>();
        PushComponents(pending, path);
        string current = "/";
        int followed = 0;
        while (pending.Count > 0)
        {
            string component = pending[^1];
            pending.RemoveAt(pending.Count - 1);
            if (component is "" or ".")
            {
                continue;
            }

            if (component == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            string next = current == "/" ? "/" + component : current + "/" + component;
            string? target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++followed > MaxLinks)
            {
                throw new SandboxException(SandboxLayers.PrivateRoot, $"Sandbox layer PrivateRoot: too many symbolic links in '{path}'.");
            }

            links[next] = target;
            PushComponents(pending, target);
            if (target.StartsWith('/'))
            {
                current = "/";
            }
        }

        return current;
    }

    /// <summary>Pushes the components of <paramref name="path"/> so that the first one is popped first.</summary>
    private static void PushComponents(List<string> pending, string path)
    {
        string[] components = path.Split('/');
        for (int i = components.Length - 1; i >= 0; i--)
        {
            pending.Add(components[i]);
        }
    }

    /// <summary>A host path bound at the same path in the private root.</summary>
    /// <param name="Path">The real path (no symbolic link in it).</param>
    /// <param name="Writable">Whether the worker may write it.</param>
    /// <param name="IsDirectory">Whether it is a directory (else a file or a device node).</param>
    internal sealed record Bind(string Path, bool Writable, bool IsDirectory);

    /// <summary>A symbolic link recreated in the private root.</summary>
    /// <param name="Location">Where the link is.</param>
    /// <param name="Target">Its text, as on the host.</param>
    internal sealed record Link(string Location, string Target);
}
