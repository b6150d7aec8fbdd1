using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ScottPlot;

namespace IpcChannel.Bench;

/// <summary>The chart: mean round trip of every implementation relative to the C floor, per size, same CPU.</summary>
internal static class Chart
{
    private static readonly (string Impl, string Label)[] s_series =
    [
        ("ipc-bytes", "IpcChannel bytes"),
        ("ipc-typed", "IpcChannel typed"),
        ("net-raw", ".NET raw socketpair"),
        ("pipes", "anonymous pipes"),
        ("uds-socket", "Unix socket"),
        ("msgpack-socket", "MessagePack + socket"),
    ];

    /// <summary>Writes the PNG; returns a sentence for the report (what it shows, or why there is none).</summary>
    public static string Write(string path, List<Result> results)
    {
        try
        {
            long[] sizes = Plan.Sizes;
            string floorImpl = results.Any(r => r.Impl == "c-raw" && r.Scenario == "roundtrip") ? "c-raw" : "net-raw";
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            var bars = new List<Bar>();
            double groupWidth = s_series.Length + 1.5;
            for (int s = 0; s < s_series.Length; s++)
            {
                for (int i = 0; i < sizes.Length; i++)
                {
                    Result? floor = Find(results, floorImpl, sizes[i]);
                    Result? r = Find(results, s_series[s].Impl, sizes[i]);
                    if (floor is null || r is null)
                    {
                        continue;
                    }

                    double ratio = r.MeanUs / floor.MeanUs;
                    bars.Add(new Bar
                    {
                        Position = (i * groupWidth) + s,
                        Value = Math.Log10(ratio),
                        FillColor = palette.GetColor(s),
                        LineWidth = 0,
                    });
                }

                plot.Legend.ManualItems.Add(new LegendItem { LabelText = s_series[s].Label, FillColor = palette.GetColor(s) });
            }

            plot.Add.Bars(bars);
            plot.Add.HorizontalLine(0, 1.5f, Colors.Black, LinePattern.Dashed);
            double[] tickRatios = [0.25, 0.5, 1, 2, 4, 8, 16, 32];
            double top = bars.Count == 0 ? 1 : Math.Max(bars.Max(b => b.Value), 0.1);
            double bottom = bars.Count == 0 ? -0.1 : Math.Min(bars.Min(b => b.Value), -0.1);
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                tickRatios.Select(Math.Log10).ToArray(), tickRatios.Select(t => t.ToString("0.##", CultureInfo.InvariantCulture) + "×").ToArray());
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                sizes.Select((_, i) => (i * groupWidth) + ((s_series.Length - 1) / 2.0)).ToArray(), sizes.Select(SizeLabel).ToArray());
            plot.Axes.SetLimits(-1, (sizes.Length * groupWidth) - 1.5, bottom - 0.1, top + 0.15);
            plot.Title($"Round trip, both processes on one CPU: mean relative to the {(floorImpl == "c-raw" ? "C" : ".NET raw")} floor (log scale, lower is better)");
            plot.Axes.Left.Label.Text = "× floor";
            plot.Axes.Bottom.Label.Text = "payload";
            plot.ShowLegend(Alignment.UpperLeft);
            plot.SavePng(path, 1200, 600);
            return "Chart: bars are each implementation's mean round trip ÷ the floor's at that size (same CPU); the dashed line is the floor. Drawn with ScottPlot.";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"(No chart: ScottPlot failed: {e.GetType().Name}: {e.Message}.)";
        }
    }

    private static Result? Find(List<Result> results, string impl, long size) =>
        results.FirstOrDefault(r => r.Placement == "same-cpu" && r.Scenario == "roundtrip" && r.Impl == impl && r.Size == size && r.Error is null);

    private static string SizeLabel(long size) => size switch
    {
        >= 1 << 20 => $"{size >> 20} MiB",
        >= 1024 => $"{size >> 10} KiB",
        _ => $"{size} B",
    };
}
