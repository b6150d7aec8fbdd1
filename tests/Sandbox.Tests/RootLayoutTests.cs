using System;
using System.Collections.Generic;
using System.IO;
using IpcChannel.Supervisor.Sandbox;
using Xunit;

namespace IpcChannel.Sandbox.Tests;

/// <summary>
/// What the private root binds and which symbolic links it recreates, worked out on a small tree of real directories
/// and links (the shapes of <c>/lib → usr/lib</c>, <c>/lib64/ld-linux-x86-64.so.2 → …</c> and a symlinked app).
/// </summary>
public sealed class RootLayoutTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"ipcchannel-rootlayout-{Guid.NewGuid():N}");

    public RootLayoutTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "usr/lib/x86_64-linux-gnu"));
        Directory.CreateDirectory(Path.Combine(_root, "usr/lib64"));
        Directory.CreateDirectory(Path.Combine(_root, "opt/app-1.0"));
        File.WriteAllText(Path.Combine(_root, "usr/lib/x86_64-linux-gnu/ld.so"), "loader");
        File.CreateSymbolicLink(Path.Combine(_root, "lib"), "usr/lib");
        File.CreateSymbolicLink(Path.Combine(_root, "lib64"), "usr/lib64");
        File.CreateSymbolicLink(Path.Combine(_root, "usr/lib64/ld.so"), "../lib/x86_64-linux-gnu/ld.so");
        File.CreateSymbolicLink(Path.Combine(_root, "opt/app"), Path.Combine(_root, "opt/app-1.0"));
    }

    [Fact]
    public void SymlinkedDirectory_IsBoundAtItsRealPath_AndTheLinkIsRecreated()
    {
        RootLayout layout = RootLayout.Plan([P("lib/x86_64-linux-gnu")], []);
        Assert.Equal([new RootLayout.Bind(P("usr/lib/x86_64-linux-gnu"), false, true)], layout.Binds);
        Assert.Equal([new RootLayout.Link(P("lib"), "usr/lib")], layout.Links);
    }

    [Fact]
    public void LinkChain_ToAFile_IsFollowedToTheEnd()
    {
        RootLayout layout = RootLayout.Plan([P("lib64/ld.so")], []);
        Assert.Equal([new RootLayout.Bind(P("usr/lib/x86_64-linux-gnu/ld.so"), false, false)], layout.Binds);
        Assert.Equal([new RootLayout.Link(P("lib64"), "usr/lib64"), new RootLayout.Link(P("usr/lib64/ld.so"), "../lib/x86_64-linux-gnu/ld.so")], layout.Links);
    }

    [Fact]
    public void PathsInsideABind_AndLinksInsideABind_AreLeftOut()
    {
        RootLayout layout = RootLayout.Plan([P("usr"), P("lib64/ld.so"), P("usr/lib")], []);
        Assert.Equal([new RootLayout.Bind(P("usr"), false, true)], layout.Binds);

        // /lib64 is outside /usr, so it is recreated; /usr/lib64/ld.so is visible through the bind of /usr.
        Assert.Equal([new RootLayout.Link(P("lib64"), "usr/lib64")], layout.Links);
    }

    [Fact]
    public void ReadWriteInsideReadOnly_AndBack_EachGetTheirOwnBind_ParentsFirst()
    {
        RootLayout layout = RootLayout.Plan([P("usr"), P("usr/lib/x86_64-linux-gnu")], [P("usr/lib")]);
        Assert.Equal(
            [
                new RootLayout.Bind(P("usr"), false, true),
                new RootLayout.Bind(P("usr/lib"), true, true),
                new RootLayout.Bind(P("usr/lib/x86_64-linux-gnu"), false, true),
            ],
            layout.Binds);
    }

    [Fact]
    public void AbsoluteLink_AndMissingPaths()
    {
        RootLayout layout = RootLayout.Plan([P("opt/app/"), P("does-not-exist")], []);
        Assert.Equal([new RootLayout.Bind(P("opt/app-1.0"), false, true)], layout.Binds);
        Assert.Equal([new RootLayout.Link(P("opt/app"), P("opt/app-1.0"))], layout.Links);
    }

    [Fact]
    public void LinkLoop_IsRefused()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(_root, "b"), "a");
        SandboxException error = Assert.Throws<SandboxException>(() => RootLayout.Plan([P("a/x")], []));
        Assert.Equal(SandboxLayers.PrivateRoot, error.Layer);
    }

    [Fact]
    public void Resolve_DotDotAfterALink_IsPhysical()
    {
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        Assert.Equal(P("usr/lib64"), RootLayout.Resolve(P("lib/../lib64"), links));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string P(string relative) => Path.Combine(_root, relative);
}
