// Which benchmark suites a report runs, what each benchmark is called in the report, and which
// cases each mode selects. A report row is kernel × shape × variant: the kernel comes from the
// method's category (or the whitening case's method), the shape and variant from the "Case"
// parameter ("shape/variant", whitening "shape/method/backend"), and any other parameter (the
// BPR batch) joins the shape, e.g. "baby, batch 1024".
using BenchmarkDotNet.Running;

namespace Stair.Kernels.Benchmarks.Report;

/// <summary>A benchmark case as the report names it.</summary>
internal sealed record CaseName(string Kernel, string Shape, string Variant)
{
    /// <summary>The shape part of the case parameter without the extra parameters.</summary>
    public string BaseShape => Shape.Split(',')[0];
}

internal static class SuiteCatalog
{
    /// <summary>Every suite a report can run, in the order it runs them.</summary>
    public static readonly Type[] Suites =
    [
        typeof(PropagationBenchmarks), typeof(EmbeddingUpdateBenchmarks), typeof(BprLossBenchmarks), typeof(RankingBenchmarks),
        typeof(DenseProductBenchmarks), typeof(KnnGraphBenchmarks), typeof(WhiteningBenchmarks), typeof(GrowthBenchmarks),
    ];

    /// <summary>The report's name of one BenchmarkDotNet case.</summary>
    public static CaseName Name(BenchmarkCase benchmark)
    {
        string category = benchmark.Descriptor.Categories.FirstOrDefault() ?? benchmark.Descriptor.WorkloadMethod.Name;
        string @case = benchmark.Parameters.Items.FirstOrDefault(p => p.Name == "Case")?.Value?.ToString() ?? "";
        string[] parts = @case.Split('/');
        string extra = string.Concat(benchmark.Parameters.Items.Where(p => p.Name != "Case")
            .Select(p => $", {p.Name.ToLowerInvariant()} {p.Value}"));
        Type suite = benchmark.Descriptor.Type;
        if (suite == typeof(WhiteningBenchmarks))
        {
            return new CaseName("whitening " + parts[1], parts[0] + extra, parts[2]);
        }
        string kernel = (suite.Name, category) switch
        {
            (nameof(BprLossBenchmarks), "Accumulate") => "BPR accumulate",
            (nameof(BprLossBenchmarks), "Overwrite") => "BPR overwrite",
            (nameof(BprLossBenchmarks), "Sample") => "negative sample",
            (nameof(RankingBenchmarks), _) => "ranking",
            (nameof(KnnGraphBenchmarks), "TopK") => "kNN top-k",
            (nameof(KnnGraphBenchmarks), "Floor") => "kNN products",
            (nameof(DenseProductBenchmarks), _) => "dense product",
            (nameof(GrowthBenchmarks), _) => category + " growth",
            _ => category,
        };
        return new CaseName(kernel, parts[0] + extra, parts.Length > 1 ? parts[1] : "");
    }

    /// <summary>
    /// Whether <paramref name="mode"/> runs this case: every round, or once (a slow baseline, one cold call in
    /// the first round), or not at all (with the reason in <paramref name="omitted"/> when it is left out on purpose).
    /// </summary>
    public static Selection Select(ReportMode mode, Type suite, CaseName name, out string? omitted)
    {
        omitted = null;
        string shape = name.BaseShape;
        if (name.Variant == "ilgpu-cpu")
        {
            return Selection.No; // the ILGPU simulator is a correctness tool (validate, tests), not a backend to time
        }
        if (suite == typeof(KnnGraphBenchmarks) && name.Kernel == "kNN products" && name.Variant is "opencl" or "cuda")
        {
            return Selection.No; // the GEMM floor is a CPU measurement (a device variant returns at once)
        }
        if (suite == typeof(GrowthBenchmarks))
        {
            bool growth = mode switch
            {
                ReportMode.Smoke => shape == "toy",
                ReportMode.Quick => GrowthBenchmarks.Scale(shape) <= 1,
                _ => true,
            };
            // e100 (25 M rows, 270 M non-zeros: seconds per call, minutes to build) runs once.
            return !growth ? Selection.No : GrowthBenchmarks.Scale(shape) >= 100 ? Selection.Once : Selection.Rounds;
        }
        if (mode == ReportMode.Smoke || shape == "toy")
        {
            return mode == ReportMode.Smoke && shape == "toy" ? Selection.Rounds : Selection.No;
        }
        if (mode == ReportMode.Quick)
        {
            if (shape is not ("baby" or "baby-text" or "baby-text-steep" or "baby-text-flat" or "query"))
            {
                return Selection.No;
            }
            return SlowVariant(suite, name) ? Selection.Once : Selection.Rounds;
        }
        // Full: every shape; the baselines of the slowest ones run once, and two shapes are left to a manual run.
        switch (shape)
        {
            case "electronics-visual" or "electronics-text" when suite == typeof(KnnGraphBenchmarks):
                omitted = "minutes per call (7.6·10¹¹ to 8·10¹² multiply-adds, far more on the scalar baseline): run KnnGraphBenchmarks with --job dry";
                return Selection.No;
            case "knnself" or "gram":
                omitted = "the self products whitening and kNN run inside; they are measured there (DenseProductBenchmarks runs them)";
                return Selection.No;
            case "electronics-image" when name.Variant == "opencl":
                omitted = "PoCL on 2 cores takes more than 5 minutes per call at 63,001 × 4,096";
                return Selection.No;
            case "electronics-image" when name.Variant == "scalar":
                omitted = "the scalar baseline takes minutes per call at this shape; baby-image gives the tier ratio";
                return Selection.No;
        }
        bool slowBaseline = name.Variant is "scalar" or "naive"
            && shape is "baby-visual" or "baby-image" or "baby-image-iid" or "knn384" or "rank" or "electronics" or "electronics-image";
        return slowBaseline || SlowVariant(suite, name) ? Selection.Once : Selection.Rounds;
    }

    // Variants that take 0.3–7 s per call at the Baby shapes on a 2-core machine (measured in a quick report):
    // the naive and scalar baselines of the dense-algebra suites, and PoCL's runs of them. Once is enough for a
    // ratio; the rounds go to the variants a user would pick.
    private static bool SlowVariant(Type suite, CaseName name) =>
        (suite == typeof(RankingBenchmarks) || suite == typeof(KnnGraphBenchmarks) || suite == typeof(WhiteningBenchmarks) || suite == typeof(DenseProductBenchmarks))
        && name.Variant is "naive" or "scalar" or "opencl";
}

/// <summary>How often a report runs a case.</summary>
internal enum Selection
{
    No,
    Rounds,
    Once,
}
