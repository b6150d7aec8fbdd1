using System;
using System.Collections.Generic;

namespace IpcChannel.Supervisor.Sandbox;

/// <summary>Spells out a set of layers one by one (the composite <see cref="SandboxLayers.Landlock"/> would hide which part is missing).</summary>
internal static class LayerNames
{
    /// <summary>The single layers in <paramref name="layers"/>, joined with <paramref name="separator"/>.</summary>
    /// <param name="layers">The layers.</param>
    /// <param name="separator">The separator.</param>
    /// <returns>For example "LandlockNetwork, LandlockScopes", or "None".</returns>
    public static string Describe(SandboxLayers layers, string separator = ", ")
    {
        var names = new List<string>();
        foreach (SandboxLayers layer in Enum.GetValues<SandboxLayers>())
        {
            if (layer != SandboxLayers.None && (layer & (layer - 1)) == 0 && (layers & layer) != 0)
            {
                names.Add(layer.ToString());
            }
        }

        return names.Count == 0 ? "None" : string.Join(separator, names);
    }
}
