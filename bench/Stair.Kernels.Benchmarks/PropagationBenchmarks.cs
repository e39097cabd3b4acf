// PropagationBenchmarks: SpMM and FSC (L = 3, d = 64) on synthetic power-law graphs shaped
// like Amazon Baby and Electronics, per SIMD tier, against a naive scalar baseline.
// Benchmark names are permanent so results stay comparable across versions.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
[WarmupCount(3)]
[IterationCount(12)]
public class PropagationBenchmarks
{
    private const int Width = 64;
    private const int Layers = 3;

    private CsrMatrix _adjacency = null!;
    private PropagationPlan _plan = null!;
    private PropagationWorkspace _workspace = null!;
    private float[] _input = [];
    private float[] _output = [];
    private float[] _beta = [];
    private float[] _scratchA = [];
    private float[] _scratchB = [];

    /// <summary>Graph shape: Amazon Baby or Electronics.</summary>
    [Params("baby", "electronics")]
    public string Shape { get; set; } = "baby";

    /// <summary>"naive" (textbook scalar loop, one thread) or a SIMD tier of the library.</summary>
    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = "naive";

    public static IEnumerable<string> Variants() =>
        new[] { "naive" }.Concat(SimdTiers.Supported.Select(t => t.ToString().ToLowerInvariant()));

    [GlobalSetup]
    public void Setup()
    {
        DatasetShape shape = Shape == "baby" ? DatasetShape.Baby : DatasetShape.Electronics;
        _adjacency = SyntheticGraphs.Adjacency(shape, seed: 2025);
        int n = _adjacency.Rows;
        _input = SyntheticGraphs.UniformTable(n * Width, seed: 7);
        _output = new float[n * Width];
        _beta = StepwiseWeights.Forward(Width, 0.1);
        if (Variant == "naive")
        {
            _scratchA = new float[n * Width];
            _scratchB = new float[n * Width];
        }
        else
        {
            SimdTier tier = Enum.Parse<SimdTier>(Variant, ignoreCase: true);
            _plan = new PropagationPlan(_adjacency, new CpuOptions(tier));
            _workspace = new PropagationWorkspace(n, Width);
        }
    }

    [Benchmark]
    [BenchmarkCategory("SpMM")]
    public float[] Spmm()
    {
        if (Variant == "naive")
        {
            NaivePropagation.Spmm(_adjacency, _input, _output, Width);
        }
        else
        {
            Propagation.Spmm(_plan, _input, _output, Width);
        }
        return _output;
    }

    [Benchmark]
    [BenchmarkCategory("FSC")]
    public float[] Fsc()
    {
        if (Variant == "naive")
        {
            NaivePropagation.Fsc(_adjacency, _input, _output, Width, Layers, _beta, _scratchA, _scratchB);
        }
        else
        {
            Propagation.Fsc(_plan, _input, _output, Width, Layers, _beta, _workspace);
        }
        return _output;
    }
}
