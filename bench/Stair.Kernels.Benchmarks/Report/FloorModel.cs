// The hardware model of each kernel's floor, from what the report's probes measured on this
// machine in the same run (never from a number written by hand): a graph product costs its
// random row gathers at the probed rate for a table of that size plus its streamed bytes at the
// triad bandwidth; a dense product, kNN screen, ranking or exact whitening costs its multiply-
// adds at the probed FMA throughput; an element-wise update costs its streamed bytes. A row's
// floor is the faster of this model and the C reference of the same case (kernels.md, "Floors").
using Stair.Kernels.Validation;

namespace Stair.Kernels.Benchmarks.Report;

/// <summary>The sizes a model needs, per shape.</summary>
internal static class CaseSizes
{
    public const int Width = 64;
    public const int Layers = 3;

    /// <summary>Rows, non-zeros and table width of the user–item graph of a propagation or growth shape.</summary>
    public static (int Rows, long NonZeros, int Width)? Graph(string shape)
    {
        string? size = shape switch
        {
            "toy" or "baby" => shape,
            "electronics" => "e1",
            _ when GrowthBenchmarks.Sizes.Contains(shape) => shape,
            _ => null,
        };
        if (size is null)
        {
            return null;
        }
        CsrMatrix graph = GrowthBenchmarks.Graph(size);
        return (graph.Rows, graph.NonZeros, GrowthBenchmarks.Width(size));
    }

    /// <summary>Items of an item-table shape (embedding updates).</summary>
    public static int? Items(string shape) => shape switch
    {
        "baby" => DatasetShape.Baby.Items,
        "electronics" => DatasetShape.Electronics.Items,
        "toy" => EmbeddingUpdateBenchmarks.ToyItems,
        _ => null,
    };

    /// <summary>Multiply-adds of the dense-product shapes (as DenseProductBenchmarks counts them).</summary>
    public static double? DenseFma(string shape) => DenseProductBenchmarks.MultiplyAdds(shape);

    /// <summary>Items and features of a kNN or whitening shape.</summary>
    public static (int Items, int Features)? Features(string shape) => shape switch
    {
        "toy" => (KnnGraphBenchmarks.ToyItems, KnnGraphBenchmarks.ToyFeatures),
        _ when shape.StartsWith("baby-text", StringComparison.Ordinal) => (7_050, 384),
        "baby-visual" or "baby-image" or "baby-image-iid" => (7_050, 4_096),
        "electronics-text" => (63_001, 384),
        "electronics-visual" or "electronics-image" => (63_001, 4_096),
        _ => null,
    };
}

internal static class FloorModel
{
    /// <summary>The probed floor of one case in milliseconds and how it was derived, or null where no model applies.</summary>
    public static (double Ms, string How)? Estimate(CaseName name, MachineThroughput t)
    {
        double bandwidth = t.TriadGigabytesPerSecond * 1e9; // bytes per second
        double fma = t.FmaGigaflops * 1e9 / 2; // multiply-adds per second
        string shape = name.BaseShape;
        switch (name.Kernel)
        {
            case "SpMM" or "SpMM growth" or "FSC" or "FSC growth":
                {
                    if (CaseSizes.Graph(shape) is not (int rows, long nnz, CaseSizes.Width))
                    {
                        return null; // no graph, or rows narrower than the 256-byte gathers the probe measures
                    }
                    bool fsc = name.Kernel.StartsWith("FSC", StringComparison.Ordinal);
                    double tableBytes = (double)rows * CaseSizes.Width * 4;
                    double? gatherRate = GatherRate(t, (long)tableBytes);
                    if (gatherRate is not double g)
                    {
                        return null;
                    }
                    // Per layer: nnz row gathers; stream the output (and, for FSC, the seed) and the CSR entries.
                    double layer = nnz / g + (tableBytes * (fsc ? 2 : 1) + nnz * 8.0) / bandwidth;
                    double seconds = layer * (fsc ? CaseSizes.Layers : 1);
                    return (seconds * 1e3, $"model: {(fsc ? CaseSizes.Layers + " × (" : "")}{nnz:N0} gathers at {g / 1e6:F0} M rows/s + streamed bytes at {t.TriadGigabytesPerSecond:F1} GB/s{(fsc ? ")" : "")}");
                }
            case "AdamW":
                {
                    if (CaseSizes.Items(shape) is not int items)
                    {
                        return null;
                    }
                    // Reads θ, g, m, v and writes θ, m, v: 28 bytes per element, at the triad rate probed for arrays of this size.
                    long arrayBytes = (long)items * CaseSizes.Width * 4;
                    double rate = t.TriadBySize is { Count: > 0 } sizes
                        ? sizes.MinBy(p => Math.Abs(Math.Log((double)p.Key / arrayBytes))).Value
                        : t.TriadGigabytesPerSecond;
                    double bytes = arrayBytes * 7.0;
                    return (bytes / (rate * 1e9) * 1e3, $"model: {bytes / 1e6:F1} MB streamed at {rate:F1} GB/s (triad over {arrayBytes / 1e6:F1} MB arrays)");
                }
            case "dense product":
                return CaseSizes.DenseFma(shape) is double work ? Compute(work, t) : null;
            case "kNN top-k" or "kNN products":
                return CaseSizes.Features(shape) is (int i, int f) ? Compute((double)i * i * f / 2, t) : null;
            case "whitening exact":
                return CaseSizes.Features(shape) is (int wi, int wf) ? Compute((double)wi * wf * wf / 2, t) : null;
            case "ranking":
                {
                    (int users, int items) = shape == "toy" ? (RankingBenchmarks.ToyUsers, RankingBenchmarks.ToyItems) : (DatasetShape.Baby.Users, DatasetShape.Baby.Items);
                    return Compute((double)users * items * CaseSizes.Width, t);
                }
            default:
                return null;
        }

        static (double, string) Compute(double multiplyAdds, MachineThroughput t) =>
            (multiplyAdds / (t.FmaGigaflops * 1e9 / 2) * 1e3, $"model: {multiplyAdds:E2} multiply-adds at {t.FmaGigaflops:F0} GFLOP/s");
    }

    /// <summary>The gather rate probed for the table size closest to <paramref name="tableBytes"/> (on a log scale).</summary>
    internal static double? GatherRate(MachineThroughput t, long tableBytes)
    {
        if (t.GatherRowsPerSecond.Count == 0)
        {
            return null;
        }
        return t.GatherRowsPerSecond.MinBy(p => Math.Abs(Math.Log((double)p.Key / tableBytes))).Value;
    }

    /// <summary>The array sizes (bytes) of the streaming cases (AdamW's tables) the triad is probed at.</summary>
    public static IEnumerable<long> StreamSizes(IEnumerable<CaseName> cases) => cases
        .Where(c => c.Kernel == "AdamW")
        .Select(c => CaseSizes.Items(c.BaseShape))
        .OfType<int>()
        .Select(items => (long)items * CaseSizes.Width * 4)
        .Distinct()
        .Order();

    /// <summary>The gather-table sizes the selected cases need probed.</summary>
    public static IEnumerable<long> TableSizes(IEnumerable<CaseName> cases) => cases
        .Where(c => c.Kernel is "SpMM" or "SpMM growth" or "FSC" or "FSC growth")
        .Select(c => CaseSizes.Graph(c.BaseShape))
        .OfType<(int Rows, long NonZeros, int Width)>()
        .Where(g => g.Width == CaseSizes.Width)
        .Select(g => (long)g.Rows * CaseSizes.Width * 4)
        .Distinct()
        .Order();
}
