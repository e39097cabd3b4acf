// BprLossBenchmarks: one BPR batch (loss + scattered gradient) on a Baby-shaped table
// (26,495 rows = 19,445 users + 7,050 items, d = 64), batches of 1,024 and 4,096 drawn from
// seeded power-law interactions with sampled negatives; per SIMD tier, per ILGPU backend present,
// and a naive scalar baseline (plain loops, gradient added in batch order). Both gradient modes:
// Accumulate (only the touched rows) and Overwrite (the whole table, as an FSC backward needs).
// Also the negative sampler on a batch. A case is "shape/variant"; names are permanent.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class BprLossBenchmarks
{
    private const int Width = 64;

    private float[] _table = [];
    private float[] _gradient = [];
    private int[] _users = [];
    private int[] _positives = [];
    private int[] _negatives = [];
    private NegativeSampler _sampler = null!;
    private CpuOptions _options = CpuOptions.Default;
    private ComputeContext? _context;
    private DeviceTable? _deviceTable;
    private DeviceTable? _deviceGradient;
    private string _variant = "";
    private long _step;
    private int _userCount;

    /// <summary>"shape/variant": shape baby or toy (600 users, 300 items); variant naive, a SIMD tier, opencl or cuda.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "baby/avx512";

    [Params(1024, 4096)]
    public int Batch { get; set; }

    /// <remarks>Set STAIR_BPR_CASES to a comma-separated list of substrings to run only matching cases.</remarks>
    public static IEnumerable<string> Cases() => BenchCases.Only("STAIR_BPR_CASES", AllCases());

    private static IEnumerable<string> AllCases()
    {
        string[] variants = ["naive", .. BenchCases.Tiers(), .. BenchCases.Devices()];
        return BenchCases.Cross(["baby", "toy"], variants);
    }

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        _variant = parts[1];
        DatasetShape shape = parts[0] == "toy" ? new DatasetShape("toy", 600, 300, 3_000) : DatasetShape.Baby;
        _userCount = shape.Users;
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractions(shape.Users, shape.Items, shape.Interactions, seed: 2025);
        var training = GraphBuilder.FromEdges(shape.Users, shape.Items, u, i, [], symmetrize: false, GraphNormalization.None);
        _sampler = new NegativeSampler(training);
        var rng = new Random(11);
        _users = new int[Batch];
        _positives = new int[Batch];
        _negatives = new int[Batch];
        for (int t = 0; t < Batch; t++)
        {
            int e = rng.Next(u.Length); // a training interaction: popular users and items repeat, as in real batches
            _users[t] = u[e];
            _positives[t] = i[e];
        }
        _sampler.Sample(_users, _negatives, seed: 1);
        _table = SyntheticGraphs.UniformTable(shape.Nodes * Width, seed: 7);
        _gradient = new float[_table.Length];
        if (_variant is "opencl" or "cuda")
        {
            _context = ComputeContext.Create(_variant == "opencl" ? Backend.OpenCL : Backend.Cuda);
            _deviceTable = _context.Upload(_table, shape.Nodes, Width);
            _deviceGradient = _context.CreateTable(shape.Nodes, Width);
        }
        else if (_variant != "naive")
        {
            _options = new CpuOptions(Enum.Parse<SimdTier>(_variant, ignoreCase: true));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _deviceGradient?.Dispose();
        _deviceTable?.Dispose();
        _context?.Dispose();
    }

    [Benchmark]
    [BenchmarkCategory("Accumulate")]
    public double Accumulate() => Run(GradientMode.Accumulate);

    [Benchmark]
    [BenchmarkCategory("Overwrite")]
    public double Overwrite() => Run(GradientMode.Overwrite);

    [Benchmark]
    [BenchmarkCategory("Sample")]
    public int Sample()
    {
        _sampler.Sample(_users, _negatives, seed: 1, offset: _step++ * Batch);
        return _negatives[0];
    }

    private double Run(GradientMode mode)
    {
        int users = _userCount;
        if (_context is not null)
        {
            return _context.ComputeBprLoss(_deviceTable!, users, _users, _positives, _negatives, _deviceGradient!, mode);
        }
        if (_variant == "naive")
        {
            if (mode == GradientMode.Overwrite)
            {
                Array.Clear(_gradient);
            }
            return Naive(_table, users, _users, _positives, _negatives, _gradient);
        }
        return BprLoss.Compute(_table, Width, users, _users, _positives, _negatives, _gradient, mode, _options);
    }

    // The textbook loop: per triple, two dots, then the three rows' gradients added in place.
    private static double Naive(float[] e, int itemOffset, int[] u, int[] p, int[] n, float[] g)
    {
        double loss = 0;
        int b = u.Length;
        for (int t = 0; t < b; t++)
        {
            int ru = u[t] * Width, rp = (itemOffset + p[t]) * Width, rn = (itemOffset + n[t]) * Width;
            float x = 0;
            for (int j = 0; j < Width; j++)
            {
                x += e[ru + j] * (e[rp + j] - e[rn + j]);
            }
            loss += Math.Log(1 + Math.Exp(-x));
            float s = (float)(1 / (1 + Math.Exp(x)) / b);
            for (int j = 0; j < Width; j++)
            {
                float eu = e[ru + j];
                g[ru + j] -= s * (e[rp + j] - e[rn + j]);
                g[rp + j] -= s * eu;
                g[rn + j] += s * eu;
            }
        }
        return loss / b;
    }
}
