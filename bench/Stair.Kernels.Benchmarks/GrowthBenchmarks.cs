// GrowthBenchmarks: SpMM and FSC (L = 3, d = 64) on synthetic power-law user–item graphs from
// toy size through Amazon Baby and Electronics to 10× Electronics (users, items and interactions
// all scaled), on the best SIMD tier and on each ILGPU device up to the Electronics shape. The
// benchmark report turns these into the growth curve: time per non-zero against non-zeros.
// A case is "size/variant": size toy, baby or e<scale> (e0.25 … e10, multiples of Electronics).
// Graphs are built once per process and size (the report runs in-process, so the cases of one
// size share them).
using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class GrowthBenchmarks
{
    private const int Width = 64;
    private const int Layers = 3;
    private static readonly ConcurrentDictionary<string, CsrMatrix> Graphs = new();

    /// <summary>Sizes of the curve, smallest first.</summary>
    public static readonly string[] Sizes = ["toy", "baby", "e0.25", "e0.5", "e1", "e2", "e4", "e10"];

    private PropagationPlan? _plan;
    private PropagationWorkspace? _workspace;
    private float[] _input = [];
    private float[] _output = [];
    private float[] _beta = [];
    private ComputeContext? _context;
    private DeviceGraph? _graph;
    private DeviceTable? _deviceInput;
    private DeviceTable? _deviceOutput;
    private StepwiseFilter? _filter;

    /// <summary>"size/variant": a size of <see cref="Sizes"/>; variant the best SIMD tier, opencl or cuda.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "baby/avx512";

    /// <remarks>Set STAIR_GROWTH_CASES to a comma-separated list of substrings to run only matching cases.</remarks>
    public static IEnumerable<string> Cases() => BenchCases.Only("STAIR_GROWTH_CASES", AllCases());

    internal static IEnumerable<string> AllCases()
    {
        string best = SimdTiers.Best.ToString().ToLowerInvariant();
        string[] devices = [.. BenchCases.Devices()];
        foreach (string size in Sizes)
        {
            yield return $"{size}/{best}";
            if (Scale(size) <= 1)
            {
                foreach (string device in devices)
                {
                    yield return $"{size}/{device}";
                }
            }
        }
    }

    /// <summary>The size as a multiple of the Electronics shape.</summary>
    public static double Scale(string size) => size switch
    {
        "toy" => Toy.Interactions / (double)DatasetShape.Electronics.Interactions,
        "baby" => DatasetShape.Baby.Interactions / (double)DatasetShape.Electronics.Interactions,
        _ when size.StartsWith('e') && double.TryParse(size.AsSpan(1), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) => s,
        _ => throw new ArgumentException($"Unknown growth size '{size}'.", nameof(size)),
    };

    private static DatasetShape Toy { get; } = new("toy", 600, 300, 3_000);

    /// <summary>The data-set shape of a size.</summary>
    public static DatasetShape Shape(string size)
    {
        if (size == "toy")
        {
            return Toy;
        }
        if (size == "baby")
        {
            return DatasetShape.Baby;
        }
        double s = Scale(size);
        DatasetShape e = DatasetShape.Electronics;
        return new DatasetShape(size, (int)(e.Users * s), (int)(e.Items * s), (int)(e.Interactions * s));
    }

    /// <summary>The graph of a size (built once per process).</summary>
    public static CsrMatrix Graph(string size) => Graphs.GetOrAdd(size, s => SyntheticGraphs.Adjacency(Shape(s), seed: 2025));

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        CsrMatrix adjacency = Graph(parts[0]);
        int n = adjacency.Rows;
        _input = SyntheticGraphs.UniformTable(n * Width, seed: 7);
        _output = new float[n * Width];
        _beta = StepwiseWeights.Forward(Width, 0.1);
        if (parts[1] is "opencl" or "cuda")
        {
            _context = ComputeContext.Create(parts[1] == "opencl" ? Backend.OpenCL : Backend.Cuda);
            _graph = _context.Upload(adjacency);
            _deviceInput = _context.Upload(_input, n, Width);
            _deviceOutput = _context.CreateTable(n, Width);
            _filter = _context.CreateFilter(_beta, Layers);
        }
        else
        {
            _plan = new PropagationPlan(adjacency, new CpuOptions(Enum.Parse<SimdTier>(parts[1], ignoreCase: true)));
            _workspace = new PropagationWorkspace(n, Width);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _filter?.Dispose();
        _deviceOutput?.Dispose();
        _deviceInput?.Dispose();
        _graph?.Dispose();
        _context?.Dispose();
        _plan = null;
        _workspace = null;
    }

    [Benchmark]
    [BenchmarkCategory("SpMM")]
    public object Spmm()
    {
        if (_context is not null)
        {
            _context.Spmm(_graph!, _deviceInput!, _deviceOutput!);
            _context.Synchronize();
            return _deviceOutput!;
        }
        Propagation.Spmm(_plan!, _input, _output, Width);
        return _output;
    }

    [Benchmark]
    [BenchmarkCategory("FSC")]
    public object Fsc()
    {
        if (_context is not null)
        {
            _context.Fsc(_graph!, _deviceInput!, _deviceOutput!, _filter!);
            _context.Synchronize();
            return _deviceOutput!;
        }
        Propagation.Fsc(_plan!, _input, _output, Width, Layers, _beta, _workspace!);
        return _output;
    }
}
