// PropagationBenchmarks: SpMM and FSC (L = 3, d = 64) on synthetic power-law graphs shaped
// like Amazon Baby and Electronics, per SIMD tier and per ILGPU backend present (OpenCL,
// CUDA; ILGPU's CPU simulator only at toy size), against a naive scalar baseline.
// A case is "shape/variant"; benchmark names are permanent so results stay comparable.
// "FSC sparse input" runs FSC on the row-sparse table a BPR batch of 1,024 triples leaves in the
// gradient (1,024 user rows, 2,048 item rows drawn with a popularity skew): FSC backward's input in
// training, where the CPU path skips the zero rows' gathers in the first layer.
// "c-ref" (baby, electronics, toy) runs the C reference loops of bench/native/stair_ref.c
// (NativeReference; bitwise equal to Stair's SpMM and FSC) on the thread count of the C# CPU
// cases (CpuOptions' default, one per logical core). The C FSC has no zero-row skip, so its
// "FSC sparse input" gathers every row of the first layer (the skip changes no bit); like
// FscBackward it runs over Aᵀ (the plan's Transposed, the matrix itself when symmetric).
// The SIMD tiers and c-ref read and write HostTables (64-byte aligned, huge pages), the layout a
// ComputeContext's CPU tables have; "array" runs the best tier on plain float[] tables (16-24 bytes
// off a cache line, 4 KiB pages): what a caller's own arrays cost.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Stair.Kernels.Benchmarks.Native;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class PropagationBenchmarks
{
    internal const int Width = 64;
    internal const int Layers = 3;
    internal static readonly DatasetShape Toy = new("toy", 600, 300, 3_000);

    private CsrMatrix _adjacency = null!;
    private PropagationPlan _plan = null!;
    private PropagationWorkspace _workspace = null!;
    private float[] _input = [];
    private float[] _sparseInput = [];
    private float[] _output = [];
    private float[] _beta = [];
    private float[] _scratchA = [];
    private float[] _scratchB = [];
    private ComputeContext? _context;
    private DeviceGraph? _graph;
    private DeviceTable? _deviceInput;
    private DeviceTable? _deviceSparseInput;
    private DeviceTable? _deviceOutput;
    private StepwiseFilter? _filter;
    private string _variant = "";
    private NativeReference? _native;
    private CsrMatrix _transposed = null!;
    private int _threads;
    private HostTable? _hostInput;
    private HostTable? _hostSparseInput;
    private HostTable? _hostOutput;

    /// <summary>"shape/variant": shape baby, electronics or toy; variant naive, a SIMD tier, array, opencl, cuda, ilgpu-cpu or c-ref.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "baby/naive";

    /// <remarks>Set STAIR_PROPAGATION_CASES to a comma-separated list of substrings to run only matching cases.</remarks>
    public static IEnumerable<string> Cases() => BenchCases.Only("STAIR_PROPAGATION_CASES", AllCases());

    private static IEnumerable<string> AllCases()
    {
        string[] native = [.. BenchCases.NativeReferences()];
        string[] variants = ["naive", .. BenchCases.Tiers(), .. BenchCases.Devices(), .. native];
        foreach (string c in BenchCases.Cross(["baby", "electronics"], [.. variants, ArrayVariant]))
        {
            yield return c;
        }
        foreach (string variant in variants.Append("ilgpu-cpu"))
        {
            yield return "toy/" + variant;
        }
    }

    /// <summary>The best SIMD tier over plain float[] tables.</summary>
    internal const string ArrayVariant = "array";

    private ReadOnlySpan<float> In => _hostInput is null ? _input : _hostInput.Span;

    private ReadOnlySpan<float> SparseIn => _hostSparseInput is null ? _sparseInput : _hostSparseInput.Span;

    private Span<float> Out => _hostOutput is null ? _output : _hostOutput.Span;

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        DatasetShape shape = Shape(parts[0]);
        _variant = parts[1];
        _adjacency = Graph(shape);
        int n = _adjacency.Rows;
        _input = Input(n);
        _output = new float[n * Width];
        _sparseInput = BprShapedGradient(shape, _input, n);
        _beta = Beta();
        switch (_variant)
        {
            case "naive":
                _scratchA = new float[n * Width];
                _scratchB = new float[n * Width];
                break;
            case "opencl" or "cuda" or "ilgpu-cpu":
                _context = ComputeContext.Create(_variant switch { "opencl" => Backend.OpenCL, "cuda" => Backend.Cuda, _ => Backend.IlgpuCpu });
                _graph = _context.Upload(_adjacency);
                _deviceInput = _context.Upload(_input, n, Width);
                _deviceSparseInput = _context.Upload(_sparseInput, n, Width);
                _deviceOutput = _context.CreateTable(n, Width);
                _filter = _context.CreateFilter(_beta, Layers);
                break;
            case BenchCases.NativeVariant:
                HostTables();
                _native = BenchCases.RequireNative();
                _transposed = new PropagationPlan(_adjacency).Transposed;
                _workspace = new PropagationWorkspace(n, Width);
                _threads = CpuOptions.Default.EffectiveThreads;
                break;
            default:
                if (_variant != ArrayVariant)
                {
                    HostTables();
                }
                if (!Enum.TryParse(_variant, ignoreCase: true, out SimdTier tier) || !SimdTiers.IsSupported(tier))
                {
                    tier = SimdTiers.Best; // "array", or e.g. "toy/avx512" on a machine without AVX-512
                }
                _plan = new PropagationPlan(_adjacency, new CpuOptions(tier));
                _workspace = new PropagationWorkspace(n, Width);
                break;
        }
    }

    private void HostTables()
    {
        _hostInput = HostTable.CopyOf(_input, Width);
        _hostSparseInput = HostTable.CopyOf(_sparseInput, Width);
        _hostOutput = new HostTable(_hostInput.Rows, Width);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _filter?.Dispose();
        _deviceOutput?.Dispose();
        _deviceSparseInput?.Dispose();
        _deviceInput?.Dispose();
        _graph?.Dispose();
        _context?.Dispose();
    }

    [Benchmark]
    [BenchmarkCategory("SpMM")]
    public object Spmm()
    {
        if (_variant == "naive")
        {
            NaivePropagation.Spmm(_adjacency, _input, _output, Width);
        }
        else if (_context is not null)
        {
            _context.Spmm(_graph!, _deviceInput!, _deviceOutput!);
            _context.Synchronize();
            return _deviceOutput!;
        }
        else if (_native is not null)
        {
            _native.Spmm(_adjacency, In, Out, Width, _threads);
        }
        else
        {
            Propagation.Spmm(_plan, In, Out, Width);
        }
        return _output;
    }

    [Benchmark]
    [BenchmarkCategory("FSC")]
    public object Fsc()
    {
        if (_variant == "naive")
        {
            NaivePropagation.Fsc(_adjacency, _input, _output, Width, Layers, _beta, _scratchA, _scratchB);
        }
        else if (_context is not null)
        {
            _context.Fsc(_graph!, _deviceInput!, _deviceOutput!, _filter!);
            _context.Synchronize();
            return _deviceOutput!;
        }
        else if (_native is not null)
        {
            _native.Fsc(_adjacency, In, Out, Width, Layers, _beta, _workspace, _threads);
        }
        else
        {
            Propagation.Fsc(_plan, In, Out, Width, Layers, _beta, _workspace);
        }
        return _output;
    }
    [Benchmark]
    [BenchmarkCategory("FSC sparse input")]
    public object FscSparseInput()
    {
        if (_variant == "naive")
        {
            NaivePropagation.Fsc(_adjacency, _sparseInput, _output, Width, Layers, _beta, _scratchA, _scratchB);
        }
        else if (_context is not null)
        {
            _context.FscBackward(_graph!, _deviceSparseInput!, _deviceOutput!, _filter!);
            _context.Synchronize();
            return _deviceOutput!;
        }
        else if (_native is not null)
        {
            _native.Fsc(_transposed, SparseIn, Out, Width, Layers, _beta, _workspace, _threads);
        }
        else
        {
            Propagation.FscBackward(_plan, SparseIn, Out, Width, Layers, _beta, _workspace);
        }
        return _output;
    }

    /// <summary>The data-set shape of a case's shape name: baby, electronics or toy.</summary>
    internal static DatasetShape Shape(string name) => name switch
    {
        "baby" => DatasetShape.Baby,
        "electronics" => DatasetShape.Electronics,
        "toy" => Toy,
        _ => throw new ArgumentException($"Unknown propagation shape '{name}' (baby, electronics or toy).", nameof(name)),
    };

    /// <summary>The suite's graph Ã of a shape (seed 2025).</summary>
    internal static CsrMatrix Graph(DatasetShape shape) => SyntheticGraphs.Adjacency(shape, seed: 2025);

    /// <summary>The suite's input table E: <paramref name="rows"/> × <see cref="Width"/> uniform in [−1, 1) (seed 7).</summary>
    internal static float[] Input(int rows) => SyntheticGraphs.UniformTable(rows * Width, seed: 7);

    /// <summary>The suite's FSC strengths β = StepwiseWeights.Forward(<see cref="Width"/>, 0.1).</summary>
    internal static float[] Beta() => StepwiseWeights.Forward(Width, 0.1);

    // Rows a BPR batch of 1,024 (user, positive, negative) triples writes: users first, then items,
    // positives skewed toward popular (low) item ids; every other row zero.
    private static float[] BprShapedGradient(DatasetShape shape, float[] values, int n)
    {
        var sparse = new float[values.Length];
        var rng = new Random(11);
        int users = Math.Min(shape.Users, n), items = n - users;
        void Copy(int row) => Array.Copy(values, row * Width, sparse, row * Width, Width);
        for (int t = 0; t < 1024 && users > 0 && items > 0; t++)
        {
            Copy(rng.Next(users));
            Copy(users + (int)(items * Math.Pow(rng.NextDouble(), 2)));
            Copy(users + rng.Next(items));
        }
        return sparse;
    }
}
