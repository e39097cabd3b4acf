// DenseProductBenchmarks: the dense NT product C = A·Bᵀ at the shapes STAIR runs, per SIMD
// tier (and per ILGPU backend present). Shapes (m × n × k, multiply-adds):
//   knn384    7050 × 7050 × 384   general                 1.91e10 FMA
//   knnself   7050 × 7050 × 4096  self (upper half)        1.02e11 FMA (2.04e11 for the full square)
//   gram      4096 × 4096 × 7050  self (whitening Gram)    5.91e10 FMA (upper half)
//   query     7050 × 80 × 4096    general                  2.31e9 FMA
//   rank      19445 × 7050 × 64   general (full ranking)   8.77e9 FMA
//   toy       300 × 200 × 100     general (every variant, incl. the ILGPU CPU simulator)
// GFMA/s = FMA / mean time; the self shapes count the upper half (m(m+1)/2·k), the work done.
// A case is "shape/variant"; benchmark names are permanent so results stay comparable.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Stair.Kernels.Cpu.Dense;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
[WarmupCount(1)]
[IterationCount(5)]
public class DenseProductBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
    private int _m, _n, _k;
    private bool _self;
    private SimdTier _tier;

    /// <summary>"shape/variant": shape knn384, knnself, gram, query, rank or toy; variant a SIMD tier.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "toy/avx512";

    public static IEnumerable<string> Cases()
    {
        var tiers = SimdTiers.Supported.Where(t => t != SimdTier.Scalar).Select(t => t.ToString().ToLowerInvariant()).ToList();
        foreach (string shape in new[] { "knn384", "knnself", "gram", "query", "rank" })
        {
            foreach (string tier in tiers)
            {
                yield return $"{shape}/{tier}";
            }
        }
        yield return "query/scalar";
        foreach (string tier in tiers)
        {
            yield return $"toy/{tier}";
        }
        yield return "toy/scalar";
    }

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        (_m, _n, _k, _self) = parts[0] switch
        {
            "knn384" => (7050, 7050, 384, false),
            "knnself" => (7050, 7050, 4096, true),
            "gram" => (4096, 4096, 7050, true),
            "query" => (7050, 80, 4096, false),
            "rank" => (19445, 7050, 64, false),
            _ => (300, 200, 100, false),
        };
        _a = SyntheticGraphs.UniformTable(_m * _k, seed: 7);
        _b = _self ? _a : SyntheticGraphs.UniformTable(_n * _k, seed: 8);
        _c = new float[(long)_m * _n];
        if (!Enum.TryParse(parts[1], ignoreCase: true, out _tier) || !SimdTiers.IsSupported(_tier))
        {
            _tier = SimdTiers.Best;
        }
    }

    [Benchmark]
    [BenchmarkCategory("NT")]
    public unsafe object MultiplyTransposed()
    {
        fixed (float* a = _a, b = _b, c = _c)
        {
            int threads = Environment.ProcessorCount;
            if (_self)
            {
                DenseProduct.MultiplySelfTransposed(_tier, threads, a, _k, c, _m, _m, _k);
            }
            else
            {
                DenseProduct.MultiplyTransposed(_tier, threads, a, _k, b, _k, c, _n, _m, _n, _k);
            }
        }
        return _c;
    }
}
