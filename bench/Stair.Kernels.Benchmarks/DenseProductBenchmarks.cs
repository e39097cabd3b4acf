// DenseProductBenchmarks: the dense NT product C = A·Bᵀ at the shapes STAIR runs, per SIMD
// tier (and per ILGPU backend present). Shapes (m × n × k, multiply-adds):
//   knn384    7050 × 7050 × 384   general                 1.91e10 FMA
//   knnself   7050 × 7050 × 4096  self (upper half)        1.02e11 FMA (2.04e11 for the full square)
//   gram      4096 × 4096 × 7050  self (whitening Gram)    5.91e10 FMA (upper half)
//   query     7050 × 80 × 4096    general                  2.31e9 FMA
//   rank      19445 × 7050 × 64   general (full ranking)   8.77e9 FMA
//   toy       300 × 200 × 100     general (every variant, incl. the ILGPU CPU simulator)
// The ILGPU variants (opencl, cuda, ilgpu-cpu) run ComputeContext.MultiplyTransposed and
// Synchronize; they have no self kernel, so a self shape does the full m²·k there.
// GFMA/s = FMA / mean time; the self shapes count the upper half (m(m+1)/2·k), the work done.
// "c-ref" (every CPU shape and toy) runs the register-blocked C loop of bench/native/stair_ref.c
// (NativeReference; the self shapes with its upper-triangle-and-mirror variant) on the thread
// count of the C# cases; present only when the C references compile and load.
// A case is "shape/variant"; benchmark names are permanent so results stay comparable.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Stair.Kernels.Benchmarks.Native;
using Stair.Kernels.Cpu.Dense;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class DenseProductBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
    private int _m, _n, _k;
    private bool _self;
    private SimdTier _tier;
    private ComputeContext? _context;
    private DeviceTable? _deviceA;
    private DeviceTable? _deviceB;
    private DeviceTable? _deviceC;
    private NativeReference? _native;

    /// <summary>"shape/variant": shape knn384, knnself, gram, query, rank or toy; variant a SIMD tier, an ILGPU backend or c-ref.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "toy/avx512";

    public static IEnumerable<string> Cases()
    {
        var tiers = SimdTiers.Supported.Where(t => t != SimdTier.Scalar).Select(t => t.ToString().ToLowerInvariant()).ToList();
        string[] native = [.. BenchCases.NativeReferences()];
        foreach (string shape in new[] { "knn384", "knnself", "gram", "query", "rank" })
        {
            foreach (string tier in tiers)
            {
                yield return $"{shape}/{tier}";
            }
            foreach (string variant in native)
            {
                yield return $"{shape}/{variant}";
            }
        }
        foreach (string shape in new[] { "knn384", "query", "rank" })
        {
            yield return $"{shape}/scalar"; // the baselines (the self shapes' scalar runs take minutes)
        }
        foreach (string tier in tiers)
        {
            yield return $"toy/{tier}";
        }
        yield return "toy/scalar";
        foreach (string variant in native)
        {
            yield return $"toy/{variant}";
        }
        // ILGPU backends: the GPU kernel has no self variant, so the self shapes run the full square there.
        if (BackendDiscovery.IsAvailable(Backend.OpenCL))
        {
            foreach (string shape in new[] { "toy", "query", "knn384", "rank" })
            {
                yield return $"{shape}/opencl";
            }
        }
        if (BackendDiscovery.IsAvailable(Backend.Cuda))
        {
            foreach (string shape in new[] { "toy", "knn384", "knnself", "gram", "query", "rank" })
            {
                yield return $"{shape}/cuda";
            }
        }
        yield return "toy/ilgpu-cpu";
    }

    /// <summary>m × n × k of a shape, and whether it is a self product (the upper half is computed).</summary>
    internal static (int M, int N, int K, bool Self) Dims(string shape) => shape switch
    {
        "knn384" => (7050, 7050, 384, false),
        "knnself" => (7050, 7050, 4096, true),
        "gram" => (4096, 4096, 7050, true),
        "query" => (7050, 80, 4096, false),
        "rank" => (19445, 7050, 64, false),
        "toy" => (300, 200, 100, false),
        _ => throw new ArgumentException($"Unknown dense-product shape '{shape}'.", nameof(shape)),
    };

    /// <summary>The multiply-adds the CPU computes for a shape (a self shape counts its upper half, m(m+1)/2·k).</summary>
    internal static double? MultiplyAdds(string shape)
    {
        if (shape is not ("knn384" or "knnself" or "gram" or "query" or "rank" or "toy"))
        {
            return null;
        }
        (int m, int n, int k, bool self) = Dims(shape);
        return self ? m * (m + 1.0) / 2 * k : (double)m * n * k;
    }

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        (_m, _n, _k, _self) = Dims(parts[0]);
        _a = SyntheticGraphs.UniformTable(_m * _k, seed: 7);
        _b = _self ? _a : SyntheticGraphs.UniformTable(_n * _k, seed: 8);
        _c = new float[(long)_m * _n];
        if (parts[1] is "opencl" or "cuda" or "ilgpu-cpu")
        {
            _context = ComputeContext.Create(parts[1] switch { "opencl" => Backend.OpenCL, "cuda" => Backend.Cuda, _ => Backend.IlgpuCpu });
            _deviceA = _context.Upload(_a, _m, _k);
            _deviceB = _self ? _deviceA : _context.Upload(_b, _n, _k);
            _deviceC = _context.CreateTable(_m, _n);
            _context.MultiplyTransposed(_deviceA, _deviceB, _deviceC); // compile the kernel outside the measurement
            _context.Synchronize();
        }
        else if (parts[1] == BenchCases.NativeVariant)
        {
            _native = BenchCases.RequireNative();
        }
        else if (!Enum.TryParse(parts[1], ignoreCase: true, out _tier) || !SimdTiers.IsSupported(_tier))
        {
            _tier = SimdTiers.Best;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _deviceC?.Dispose();
        if (!ReferenceEquals(_deviceB, _deviceA))
        {
            _deviceB?.Dispose();
        }
        _deviceA?.Dispose();
        _context?.Dispose();
    }

    [Benchmark]
    [BenchmarkCategory("NT")]
    public unsafe object MultiplyTransposed()
    {
        if (_context is not null)
        {
            _context.MultiplyTransposed(_deviceA!, _deviceB!, _deviceC!);
            _context.Synchronize();
            return _deviceC!;
        }
        if (_native is not null)
        {
            if (_self)
            {
                _native.MultiplySelfTransposed(_a, _k, _c, _m, _m, _k, Environment.ProcessorCount);
            }
            else
            {
                _native.MultiplyTransposed(_a, _k, _b, _k, _c, _n, _m, _n, _k, Environment.ProcessorCount);
            }
            return _c;
        }
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
