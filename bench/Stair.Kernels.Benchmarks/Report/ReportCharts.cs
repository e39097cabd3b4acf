// The report's charts (ScottPlot, headless PNG): per kernel and shape, every variant's median
// side by side with the floor marked as a line and the peers as grey bars; and the growth
// curve, time per non-zero against non-zeros (log scale), one line per kernel and variant.
using System.Globalization;
using ScottPlot;

namespace Stair.Kernels.Benchmarks.Report;

internal static class ReportCharts
{
    private const int ChartWidth = 900, ChartHeight = 480;

    /// <summary>Draws every chart into <paramref name="folder"/> and returns the files, in report order.</summary>
    public static IReadOnlyList<string> Write(PerformanceReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        foreach (IGrouping<(string Kernel, string Shape), ReportRow> group in report.Rows.GroupBy(r => (r.Kernel, r.Shape)))
        {
            string file = Path.Combine(folder, Slug($"{group.Key.Kernel}-{group.Key.Shape}") + ".png");
            Variants(group.Key.Kernel, group.Key.Shape, [.. group], file);
            files.Add(file);
        }
        if (report.Growth.Count > 0)
        {
            string file = Path.Combine(folder, "growth.png");
            Growth(report.Growth, file);
            files.Add(file);
        }
        return files;
    }

    private static void Variants(string kernel, string shape, IReadOnlyList<ReportRow> rows, string file)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var labels = new List<string>();
        int position = 0;
        foreach (ReportRow row in rows.OrderBy(r => ReportDriver.VariantOrder(r.Variant)))
        {
            bars.Add(new Bar
            {
                Position = position++, Value = row.MedianMs, FillColor = Color(row.Variant),
                Label = ReportMarkdown.Ms(row.MedianMs),
            });
            labels.Add(row.Variant);
        }
        foreach (PeerComparison peer in rows.SelectMany(r => r.Peers).GroupBy(p => p.Peer).Select(g => g.First()))
        {
            bars.Add(new Bar { Position = position++, Value = peer.MedianMs, FillColor = Colors.Gray, Label = ReportMarkdown.Ms(peer.MedianMs) });
            labels.Add(peer.Peer);
        }
        plot.Add.Bars(bars);
        if (rows.Select(r => r.FloorMs).FirstOrDefault(f => f is not null) is double floor)
        {
            var line = plot.Add.HorizontalLine(floor);
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = $"floor {ReportMarkdown.Ms(floor)} ms ({rows.First(r => r.FloorMs is not null).FloorSource})";
            plot.ShowLegend(Alignment.UpperRight);
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, labels.Count).Select(i => (double)i)], [.. labels]);
        plot.Axes.Margins(bottom: 0);
        plot.Title($"{kernel}, {shape}");
        plot.YLabel("median ms (lower is faster)");
        plot.SavePng(file, ChartWidth, ChartHeight);
    }

    private static void Growth(IReadOnlyList<GrowthPoint> points, string file)
    {
        var plot = new Plot();
        foreach (IGrouping<(string Kernel, string Variant, int Width), GrowthPoint> series in points.GroupBy(p => (p.Kernel, p.Variant, p.Width)))
        {
            double[] xs = [.. series.Select(p => Math.Log10(p.NonZeros))];
            double[] ys = [.. series.Select(p => p.NanosecondsPerNonZero)];
            var scatter = plot.Add.Scatter(xs, ys);
            scatter.LegendText = $"{series.Key.Kernel} {series.Key.Variant} d={series.Key.Width}";
        }
        double lo = Math.Floor(points.Min(p => Math.Log10(p.NonZeros)));
        double hi = Math.Ceiling(points.Max(p => Math.Log10(p.NonZeros)));
        double[] ticks = [.. Enumerable.Range((int)lo, (int)(hi - lo) + 1).Select(e => (double)e)];
        plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => "1e" + t.ToString(CultureInfo.InvariantCulture))]);
        plot.XLabel("non-zeros (log scale)");
        plot.YLabel("ns per non-zero");
        plot.Title("Growth: time per non-zero, toy → Baby → Electronics → larger");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(file, ChartWidth, ChartHeight);
    }

    private static ScottPlot.Color Color(string variant) => variant switch
    {
        "naive" => Colors.LightGray,
        "scalar" => Colors.SteelBlue.Lighten(0.4),
        "avx2" => Colors.SteelBlue.Lighten(0.2),
        "avx512" or "cpu" => Colors.SteelBlue,
        "c-ref" => Colors.DarkOrange,
        "opencl" => Colors.SeaGreen,
        "cuda" => Colors.ForestGreen,
        _ => Colors.SlateGray,
    };

    internal static string Slug(string text) =>
        new string([.. text.ToLowerInvariant().Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '-')]).Replace("--", "-").Trim('-');
}
