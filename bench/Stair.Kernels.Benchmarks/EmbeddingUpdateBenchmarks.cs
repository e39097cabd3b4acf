// EmbeddingUpdateBenchmarks: one optimizer step on item tables shaped like Amazon Baby
// (7,050 × 64) and Electronics (63,001 × 64) — plain AdamW, BSC-AdamW (L = 3 over an S̃-shaped
// graph: 5 "text" + 1 "visual" random neighbours per item, symmetrized, symmetric-normalized,
// nnz ≈ 12·I) and BSC-AdamW with the row-norm clip — per SIMD tier and per ILGPU backend
// present, against a naive one-thread baseline (plain float loops, the FSC of the
// propagation benchmark's naive path). A case is "shape/variant"; names are permanent.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class EmbeddingUpdateBenchmarks
{
    private const int Width = 64;
    private const int Layers = 3;

    private CsrMatrix _graph = null!;
    private PropagationPlan _plan = null!;
    private BscWorkspace _workspace = null!;
    private AdamState _state = null!;
    private float[] _table = [];
    private float[] _gradient = [];
    private float[] _b = [];
    private float[] _naiveDelta = [];
    private float[] _naiveSmoothed = [];
    private float[] _naiveScratchA = [];
    private float[] _naiveScratchB = [];
    private CpuOptions _cpu = CpuOptions.Default;
    private ComputeContext? _context;
    private DeviceGraph? _deviceGraph;
    private DeviceTable? _deviceTable;
    private DeviceTable? _deviceGradient;
    private DeviceAdamState? _deviceState;
    private StepwiseFilter? _filter;
    private string _variant = "";

    // A tiny learning rate keeps the table bounded over many thousand benchmark steps.
    private static readonly AdamWOptions Plain = new(1e-6f, WeightDecay: 0.1f);
    private static readonly AdamWOptions Clipped = Plain with { Clip = UpdateClip.RowNorm(4f) };

    /// <summary>"shape/variant": shape baby, electronics or toy; variant naive, a SIMD tier, opencl or cuda.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "baby/naive";

    /// <remarks>Set STAIR_UPDATE_CASES to a comma-separated list of substrings to run only matching cases (BDN filters methods, not parameters).</remarks>
    public static IEnumerable<string> Cases() => BenchCases.Only("STAIR_UPDATE_CASES", AllCases());

    private static IEnumerable<string> AllCases()
    {
        string[] variants = ["naive", .. BenchCases.Tiers(), .. BenchCases.Devices()];
        return BenchCases.Cross(["baby", "electronics", "toy"], variants);
    }

    /// <summary>Items of the toy shape (the report's smoke mode).</summary>
    internal const int ToyItems = 300;

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        int items = parts[0] switch { "baby" => DatasetShape.Baby.Items, "toy" => ToyItems, _ => DatasetShape.Electronics.Items };
        _variant = parts[1];
        _graph = EmbeddingUpdateValidation.ItemGraph(items, seed: 2025);
        _table = SyntheticGraphs.UniformTable(items * Width, seed: 7);
        _gradient = SyntheticGraphs.UniformTable(items * Width, seed: 8);
        _b = StepwiseWeights.Backward(Width, 0.2);
        _state = new AdamState(items, Width);
        switch (_variant)
        {
            case "naive":
                _naiveDelta = new float[items * Width];
                _naiveSmoothed = new float[items * Width];
                _naiveScratchA = new float[items * Width];
                _naiveScratchB = new float[items * Width];
                break;
            case "opencl" or "cuda":
                _context = ComputeContext.Create(_variant == "opencl" ? Backend.OpenCL : Backend.Cuda);
                _deviceGraph = _context.Upload(_graph);
                _deviceTable = _context.Upload(_table, items, Width);
                _deviceGradient = _context.Upload(_gradient, items, Width);
                _deviceState = _context.CreateAdamState(items, Width);
                _filter = _context.CreateFilter(_b, Layers);
                break;
            default:
                _cpu = new CpuOptions(Enum.Parse<SimdTier>(_variant, ignoreCase: true));
                _plan = new PropagationPlan(_graph, _cpu);
                _workspace = new BscWorkspace(items, Width);
                break;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _filter?.Dispose();
        _deviceState?.Dispose();
        _deviceGradient?.Dispose();
        _deviceTable?.Dispose();
        _deviceGraph?.Dispose();
        _context?.Dispose();
    }

    [Benchmark]
    [BenchmarkCategory("AdamW")]
    public UpdateResult AdamW() => _variant switch
    {
        "naive" => NaiveStep(smooth: false),
        "opencl" or "cuda" => _context!.AdamWStep(_deviceTable!, _deviceGradient!, _deviceState!, Plain),
        _ => EmbeddingUpdate.AdamWStep(_table, _gradient, _state, Plain, _cpu),
    };

    [Benchmark]
    [BenchmarkCategory("BSC-AdamW")]
    public UpdateResult BscAdamW() => Bsc(Plain);

    [Benchmark]
    [BenchmarkCategory("BSC-AdamW+clip")]
    public UpdateResult BscAdamWClip() => Bsc(Clipped);

    private UpdateResult Bsc(AdamWOptions options) => _variant switch
    {
        "naive" => NaiveStep(smooth: true),
        "opencl" or "cuda" => _context!.BscAdamWStep(_deviceTable!, _deviceGradient!, _deviceState!, _deviceGraph!, _filter!, options),
        _ => EmbeddingUpdate.BscAdamWStep(_table, _gradient, _state, _plan, _b, Layers, _workspace, options),
    };

    // The baseline: the textbook loops, one operation per pass, no SIMD, one thread.
    private UpdateResult NaiveStep(bool smooth)
    {
        long t = _state.Step + 1;
        float c1 = (float)(1 / (1 - Math.Pow(0.9, t))), c2 = (float)(1 / Math.Sqrt(1 - Math.Pow(0.999, t)));
        float[] m = _state.M, v = _state.V;
        for (int k = 0; k < _table.Length; k++)
        {
            if (!float.IsFinite(_gradient[k]))
            {
                return new UpdateResult(_state.Step, 0, 1);
            }
        }
        for (int k = 0; k < _table.Length; k++)
        {
            float g = _gradient[k];
            m[k] = 0.9f * m[k] + 0.1f * g;
            v[k] = 0.999f * v[k] + 0.001f * g * g;
            _naiveDelta[k] = m[k] * c1 / (MathF.Sqrt(v[k]) * c2 + 1e-8f);
        }
        float[] update = _naiveDelta;
        if (smooth)
        {
            NaivePropagation.Fsc(_graph, _naiveDelta, _naiveSmoothed, Width, Layers, _b, _naiveScratchA, _naiveScratchB);
            update = _naiveSmoothed;
        }
        float decay = 1 - Plain.LearningRate * Plain.WeightDecay;
        for (int k = 0; k < _table.Length; k++)
        {
            _table[k] = _table[k] * decay - Plain.LearningRate * update[k];
        }
        _state.SetStep(t);
        return new UpdateResult(t, 0, 0);
    }
}
