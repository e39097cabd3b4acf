// GrowthBenchmarks: SpMM and FSC (L = 3) on synthetic power-law user–item graphs from toy size
// through Amazon Baby and Electronics to 10× Electronics at d = 64, and from Electronics to 100×
// Electronics at d = 16 (so the tables of 25 M rows fit in memory); users, items and interactions
// all scaled. On the best SIMD tier (tables are HostTables, as a ComputeContext's are) and on each
// ILGPU device up to the Electronics shape. The benchmark report turns these into the growth curve:
// time per non-zero against non-zeros.
// A case is "size/variant": size toy, baby, e<scale> (e0.25 … e10, multiples of Electronics, d 64)
// or e<scale>-d16 (e1, e10, e100 at d 16). The d = 64 graphs are SyntheticGraphs.PowerLawInteractions
// (global rejection of repeated pairs); the d = 16 series is SyntheticGraphs.PowerLawInteractionsAtScale
// (power-law user degrees, each user's items drawn without repeats, in parallel), because global
// rejection needs ever more draws as the popular pairs fill up and 135 M pairs would take hours.
// Graphs are built once per process and size (the report runs in-process, so the cases of one size
// share them).
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
    private const int Layers = 3;
    private const string NarrowSuffix = "-d16";
    private static readonly ConcurrentDictionary<string, CsrMatrix> Graphs = new();

    /// <summary>Sizes of the curve, smallest first.</summary>
    public static readonly string[] Sizes = ["toy", "baby", "e0.25", "e0.5", "e1", "e2", "e4", "e10", "e1-d16", "e10-d16", "e100-d16"];

    private PropagationPlan? _plan;
    private PropagationWorkspace? _workspace;
    private HostTable _input = null!;
    private HostTable _output = null!;
    private int _width;
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
        _ when size.StartsWith('e') && double.TryParse(size.AsSpan(1, size.Length - 1 - (IsNarrow(size) ? NarrowSuffix.Length : 0)),
            NumberStyles.Float, CultureInfo.InvariantCulture, out double s) => s,
        _ => throw new ArgumentException($"Unknown growth size '{size}'.", nameof(size)),
    };

    /// <summary>The embedding width d of a size: 16 for the e…-d16 series, else 64.</summary>
    public static int Width(string size) => IsNarrow(size) ? 16 : 64;

    private static bool IsNarrow(string size) => size.EndsWith(NarrowSuffix, StringComparison.Ordinal);

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
    public static CsrMatrix Graph(string size) => Graphs.GetOrAdd(size, s =>
    {
        DatasetShape shape = Shape(s);
        if (!IsNarrow(s))
        {
            return SyntheticGraphs.Adjacency(shape, seed: 2025);
        }
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractionsAtScale(shape.Users, shape.Items, shape.Interactions, seed: 2025);
        return GraphBuilder.UserItemAdjacency(shape.Users, shape.Items, u, i);
    });

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        CsrMatrix adjacency = Graph(parts[0]);
        int n = adjacency.Rows;
        _width = Width(parts[0]);
        _input = HostTable.CopyOf(SyntheticGraphs.UniformTable(n * _width, seed: 7), _width);
        _output = new HostTable(n, _width);
        _beta = StepwiseWeights.Forward(_width, 0.1);
        if (parts[1] is "opencl" or "cuda")
        {
            _context = ComputeContext.Create(parts[1] == "opencl" ? Backend.OpenCL : Backend.Cuda);
            _graph = _context.Upload(adjacency);
            _deviceInput = _context.Upload(_input, n, _width);
            _deviceOutput = _context.CreateTable(n, _width);
            _filter = _context.CreateFilter(_beta, Layers);
        }
        else
        {
            _plan = new PropagationPlan(adjacency, new CpuOptions(Enum.Parse<SimdTier>(parts[1], ignoreCase: true)));
            _workspace = new PropagationWorkspace(n, _width);
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
        _input = _output = null!;
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
        Propagation.Spmm(_plan!, _input, _output, _width);
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
        Propagation.Fsc(_plan!, _input, _output, _width, Layers, _beta, _workspace!);
        return _output;
    }
}
