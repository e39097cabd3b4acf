// report.md: the machine, a headline table (per kernel and shape: the best CPU variant, the
// best device, the floor and the best peer), one table per kernel with every variant, the
// whitening spectra's worst case, the growth curve, what was skipped and the charts.
using System.Globalization;
using System.Text;

namespace Stair.Kernels.Benchmarks.Report;

internal static class ReportMarkdown
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private static readonly string[] CpuVariants = ["scalar", "avx2", "avx512", "cpu"];
    private static readonly string[] DeviceVariants = ["opencl", "cuda"];

    private static readonly string[] HeadlineKernels =
    [
        "SpMM", "FSC", "AdamW", "BSC-AdamW", "BPR accumulate", "ranking", "kNN top-k", "whitening exact", "whitening randomized",
    ];

    public static string Render(PerformanceReport report, IReadOnlyList<string> charts)
    {
        var md = new StringBuilder();
        md.AppendLine("# Stair.Kernels benchmark report").AppendLine();
        md.AppendLine(C, $"{report.Mode.ToString().ToLowerInvariant()} run, {report.Started:yyyy-MM-dd HH:mm} UTC{report.Started:zzz}, {report.Minutes:F1} min, "
            + $"{report.Rounds} round(s) of every suite (the variants of a kernel are measured in the same rounds). Command: `{report.Command}`").AppendLine();
        md.AppendLine("Times are medians of the round medians in ms. *Spread* is (max − min) / median over the rounds (with one round, the interquartile range / median); "
            + "⚠ marks a spread above 10 %. *Floor* is the faster of the hardware model (from this run's probes) and the C reference of the same case; "
            + "*% of floor* is 100 · floor / median. *× base* is the baseline's median over this one (naive, else scalar); *× peer* is the peer's median over this one.").AppendLine();
        md.AppendLine("## Machine").AppendLine();
        md.AppendLine(report.Machine.ToMarkdown());
        if (report.PeerEnvironment.Count > 0)
        {
            md.AppendLine("Peers: " + string.Join(", ", report.PeerEnvironment.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))).AppendLine();
        }
        md.AppendLine("## Headline").AppendLine();
        md.AppendLine(Headline(report)).AppendLine();

        md.AppendLine("## Every case").AppendLine();
        foreach (IGrouping<string, ReportRow> kernel in report.Rows.GroupBy(r => r.Kernel))
        {
            md.AppendLine(C, $"### {kernel.Key}").AppendLine();
            md.AppendLine("| shape | variant | median ms | spread | allocated | floor ms | floor from | % of floor | × base | peers (ms, × peer) |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---|---:|---:|---|");
            foreach (ReportRow r in kernel)
            {
                string peers = string.Join("; ", r.Peers.Select(p => string.Create(C, $"{p.Peer} {Ms(p.MedianMs)} ({p.Speedup:F1}×)")));
                md.AppendLine(C, $"| {r.Shape} | {r.Variant} | {Ms(r.MedianMs)} | {r.Spread:P0}{(r.Unsteady ? " ⚠" : "")} | {Bytes(r.AllocatedBytes)} | "
                    + $"{(r.FloorMs is double f ? Ms(f) : "—")} | {r.FloorSource ?? "no model"} | {(r.PercentOfFloor is double p ? p.ToString("F0", C) + " %" : "—")} | "
                    + $"{(r.SpeedupOverBaseline is double s ? s.ToString("F1", C) + "×" : "—")} | {peers} |");
            }
            md.AppendLine();
        }

        string? spectra = WhiteningSpectra(report);
        if (spectra is not null)
        {
            md.AppendLine("## Whitening over spectra").AppendLine();
            md.AppendLine("The exact method's cost depends on the feature spectrum; Baby text is measured on a steep (σ_k ∝ k^-1.5), the default (k^-0.7) and a flat spectrum (256 equal factors). The worst case is what a user should plan for.").AppendLine();
            md.AppendLine(spectra).AppendLine();
        }

        if (report.Growth.Count > 0)
        {
            md.AppendLine("## Growth").AppendLine();
            md.AppendLine("Synthetic power-law user–item graphs from toy size through Baby and Electronics (e1) to multiples of Electronics (e*k*: users, items and interactions × k) at d = 64, and e1 to e100 at d = 16 (e*k*-d16); FSC counts its 3 layers' non-zeros.").AppendLine();
            md.AppendLine("| kernel | variant | size | d | rows | non-zeros | median ms | ns per non-zero |");
            md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|");
            foreach (GrowthPoint g in report.Growth)
            {
                md.AppendLine(C, $"| {g.Kernel} | {g.Variant} | {g.Size} | {g.Width} | {g.Rows:N0} | {g.NonZeros:N0} | {Ms(g.MedianMs)} | {g.NanosecondsPerNonZero:F2} |");
            }
            md.AppendLine();
        }

        if (report.Distributed is { Count: > 0 } distributed)
        {
            md.AppendLine("## Distributed (MPI ranks against threads)").AppendLine();
            md.AppendLine("The same SpMM and FSC (d = 64, L = 3) as one process with 2 threads and as 2 ranks with 1 thread each, run back to back in every round. "
                + "The split is per rank and call: products, halo wait not hidden behind the interior rows, copies (packing, reordering); "
                + "*exchange alone* is the same halo moved with no product running (pack, send, receive, wait): the floor of the exchange part, per layer.").AppendLine();
            md.AppendLine("| shape | kernel | ranks × threads | median ms | products ms | halo wait ms | copies ms | halo MB per layer | exchange alone ms per layer |");
            md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (DistributedPoint p in distributed)
            {
                md.AppendLine(C, $"| {p.Shape} | {p.Kernel} | {p.Ranks} × {p.ThreadsPerRank} | {Ms(p.MedianMs)} | {Ms(p.ComputeMs)} | {Ms(p.WaitMs)} | {Ms(p.CopyMs)} | "
                    + $"{p.HaloMegabytesPerLayer:F2} | {(p.ExchangeAloneMs is double e ? Ms(e) : "—")} |");
            }
            md.AppendLine();
        }

        if (report.Skipped.Count > 0)
        {
            md.AppendLine("## Not measured").AppendLine();
            foreach (SkippedCase s in report.Skipped)
            {
                md.AppendLine(C, $"- {s.What}: {s.Reason}");
            }
            md.AppendLine();
        }

        if (charts.Count > 0)
        {
            md.AppendLine("## Charts").AppendLine();
            foreach (string chart in charts)
            {
                md.AppendLine(C, $"![{Path.GetFileNameWithoutExtension(chart)}](charts/{Path.GetFileName(chart)})").AppendLine();
            }
        }
        return md.ToString();
    }

    /// <summary>Per kernel and shape: the best CPU variant, the best device, the C reference, the floor and the best peer.</summary>
    public static string Headline(PerformanceReport report)
    {
        var md = new StringBuilder();
        md.AppendLine("| kernel | shape | best CPU | ms | % of floor | × base | c-ref ms | best device | ms | best peer | ms | × peer |");
        md.AppendLine("|---|---|---|---:|---:|---:|---:|---|---:|---|---:|---:|");
        foreach (IGrouping<(string Kernel, string Shape), ReportRow> group in report.Rows
            .Where(r => HeadlineKernels.Contains(r.Kernel) && (r.Shape is "baby" or "electronics" or "baby-text" or "baby-text-flat" or "baby-image"
                or "baby-image-iid" or "electronics-image" or "baby, batch 1024" || (report.Mode == ReportMode.Smoke && r.Shape.StartsWith("toy", StringComparison.Ordinal))))
            .GroupBy(r => (r.Kernel, r.Shape)))
        {
            ReportRow? cpu = group.Where(r => CpuVariants.Contains(r.Variant)).MinBy(r => r.MedianMs);
            ReportRow? device = group.Where(r => DeviceVariants.Contains(r.Variant)).MinBy(r => r.MedianMs);
            ReportRow? cref = group.FirstOrDefault(r => r.Variant == "c-ref");
            PeerComparison? peer = cpu?.Peers.MinBy(p => p.MedianMs);
            if (cpu is null && device is null)
            {
                continue;
            }
            md.AppendLine(C, $"| {group.Key.Kernel} | {group.Key.Shape} | {cpu?.Variant ?? "—"} | {(cpu is null ? "—" : Ms(cpu.MedianMs))} | "
                + $"{(cpu?.PercentOfFloor is double p ? p.ToString("F0", C) + " %" : "—")} | {(cpu?.SpeedupOverBaseline is double s ? s.ToString("F1", C) + "×" : "—")} | "
                + $"{(cref is null ? "—" : Ms(cref.MedianMs))} | {device?.Variant ?? "—"} | {(device is null ? "—" : Ms(device.MedianMs))} | "
                + $"{peer?.Peer ?? "—"} | {(peer is null ? "—" : Ms(peer.MedianMs))} | {(peer is null ? "—" : peer.Speedup.ToString("F1", C) + "×")} |");
        }
        return md.ToString().TrimEnd();
    }

    private static string? WhiteningSpectra(PerformanceReport report)
    {
        var rows = report.Rows.Where(r => r.Kernel.StartsWith("whitening", StringComparison.Ordinal) && r.Shape.StartsWith("baby-text", StringComparison.Ordinal)).ToList();
        if (rows.Select(r => r.Shape).Distinct().Count() < 2)
        {
            return null;
        }
        var md = new StringBuilder();
        md.AppendLine("| method | variant | steep ms | default ms | flat ms | worst |");
        md.AppendLine("|---|---|---:|---:|---:|---|");
        foreach (IGrouping<(string Kernel, string Variant), ReportRow> g in rows.GroupBy(r => (r.Kernel, r.Variant)))
        {
            string Cell(string shape) => g.FirstOrDefault(r => r.Shape == shape) is { } r ? Ms(r.MedianMs) : "—";
            ReportRow worst = g.MaxBy(r => r.MedianMs)!;
            md.AppendLine(C, $"| {g.Key.Kernel["whitening ".Length..]} | {g.Key.Variant} | {Cell("baby-text-steep")} | {Cell("baby-text")} | {Cell("baby-text-flat")} | {worst.Shape} ({Ms(worst.MedianMs)} ms) |");
        }
        return md.ToString().TrimEnd();
    }

    internal static string Ms(double ms) => ms switch
    {
        >= 100 => ms.ToString("F0", C),
        >= 10 => ms.ToString("F1", C),
        >= 1 => ms.ToString("F2", C),
        _ => ms.ToString("G3", C),
    };

    private static string Bytes(long? bytes) => bytes switch
    {
        null => "—",
        0 => "0 B",
        < 1024 => string.Create(C, $"{bytes} B"),
        < 1 << 20 => string.Create(C, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(C, $"{bytes / (1024.0 * 1024):F1} MiB"),
    };
}
