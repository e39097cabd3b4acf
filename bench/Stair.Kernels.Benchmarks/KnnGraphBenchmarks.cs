// KnnGraphBenchmarks: one modality's top-k neighbour lists (normalize, blocked screen, exact
// finish) at the real shapes — Amazon Baby (7,050 items) and Electronics (63,001 items), text
// F = 384 with k = 5 and visual F = 4,096 with k = 1 — per SIMD tier and per ILGPU backend
// present, against the GEMM floor: the same block products through DenseProduct with no
// screening at all (I²·F/2 multiply-adds). Features are seeded Gaussians.
// A case is "shape/variant"; benchmark names are permanent so results stay comparable.
// electronics-visual is 1 GB of input and 8.1·10¹² multiply-adds (minutes per call on 2 cores):
// run it with `--job dry` (one call).
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Stair.Kernels.Cpu.KnnGraph;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class KnnGraphBenchmarks
{
    private float[] _features = [];
    private int _items;
    private int _columns;
    private int _k;
    private SimdTier _tier;
    private ComputeContext? _context;
    private KnnRows? _rows;

    /// <summary>"shape/variant": shape baby-text, baby-visual, electronics-text, electronics-visual or toy; variant a SIMD tier, opencl, cuda or ilgpu-cpu.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "baby-visual/avx512";

    /// <remarks>Set STAIR_KNN_CASES to a comma-separated list of substrings to run only matching cases (BDN filters methods, not parameters).</remarks>
    public static IEnumerable<string> Cases() => BenchCases.Only("STAIR_KNN_CASES", AllCases());

    private static IEnumerable<string> AllCases()
    {
        string[] variants = [.. BenchCases.Tiers(), .. BenchCases.Devices()];
        foreach (string c in BenchCases.Cross(["baby-text", "baby-visual", "electronics-text", "electronics-visual"], variants))
        {
            yield return c;
        }
        foreach (string variant in variants.Append("ilgpu-cpu"))
        {
            yield return "toy/" + variant;
        }
    }

    /// <summary>The toy shape: 200 items × 48 features, k = 5.</summary>
    internal const int ToyItems = 200, ToyFeatures = 48;

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        (_items, _columns, _k) = Shape(parts[0]);
        _features = Features(_items, _columns);
        _tier = SimdTiers.Best;
        switch (parts[1])
        {
            case "opencl" or "cuda" or "ilgpu-cpu":
                _context = ComputeContext.Create(parts[1] switch { "opencl" => Backend.OpenCL, "cuda" => Backend.Cuda, _ => Backend.IlgpuCpu });
                break;
            default:
                if (Enum.TryParse(parts[1], ignoreCase: true, out SimdTier tier) && SimdTiers.IsSupported(tier))
                {
                    _tier = tier;
                }
                _rows = KnnExact.Normalize(_features, _items, _columns, _k, _tier, Environment.ProcessorCount);
                break;
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _context?.Dispose();

    /// <summary>Items, feature width and k of a shape name: baby-text, baby-visual, electronics-text, electronics-visual or toy.</summary>
    internal static (int Items, int Columns, int K) Shape(string name) => name switch
    {
        "baby-text" => (7_050, 384, 5),
        "baby-visual" => (7_050, 4_096, 1),
        "electronics-text" => (63_001, 384, 5),
        "electronics-visual" => (63_001, 4_096, 1),
        "toy" => (ToyItems, ToyFeatures, 5),
        _ => throw new ArgumentException($"Unknown kNN shape '{name}' (baby-text, baby-visual, electronics-text, electronics-visual or toy).", nameof(name)),
    };

    /// <summary>The suite's features: items × columns standard Gaussians (Box–Muller on System.Random seed 2025).</summary>
    internal static float[] Features(int items, int columns)
    {
        float[] features = GC.AllocateUninitializedArray<float>(items * columns);
        var rng = new Random(2025);
        for (int e = 0; e < features.Length; e++)
        {
            features[e] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        }
        return features;
    }

    /// <summary>The whole top-k (what <see cref="KnnGraph.TopK(int, KnnModality, CpuOptions?)"/> costs).</summary>
    [Benchmark]
    [BenchmarkCategory("TopK")]
    public int[] TopK() => _context is null
        ? KnnGraph.TopK(_items, new KnnModality(_features, _columns, _k), new CpuOptions(_tier))
        : _context.KnnTopK(_items, new KnnModality(_features, _columns, _k));

    /// <summary>The GEMM floor: the screen's block products alone (CPU variants; a device variant returns at once, ~0 ns, not a measurement).</summary>
    [Benchmark]
    [BenchmarkCategory("Floor")]
    public object? ProductsOnly()
    {
        if (_rows is null)
        {
            return null;
        }
        KnnScreenCpu.ProductsOnly(_rows, _tier, Environment.ProcessorCount);
        return _rows;
    }
}
