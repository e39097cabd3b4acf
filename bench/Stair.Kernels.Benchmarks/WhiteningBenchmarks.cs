// WhiteningBenchmarks: batched whitening (d = 64) of one modality at the shapes of STAIR's
// data sets — Baby text 7,050×384, Baby image 7,050×4,096, Electronics image 63,001×4,096
// (1 GB of float32 input: measure it once, e.g. --job dry) — exact vs randomized, per
// backend (cpu = the best SIMD tier on every thread; opencl and cuda where present).
// Features have a power-law spectrum (σ_k ∝ k^-0.7 over 256 factors, plus noise) like real
// embeddings. The exact method's cost depends on the spectrum, so Baby text is also measured on
// a steep one (σ_k ∝ k^-1.5) and a flat one (256 equal factors over 384 columns: clustered
// eigenvalues, the eigensolver's worst case): shapes baby-text-steep and baby-text-flat. At 4,096
// columns (the block eigen-iteration's side) the worst case is i.i.d. features, whose Gram has a
// Marchenko–Pastur spectrum with no gap after d (what synthetic data sets use): shape
// baby-image-iid, i.i.d. uniform [0, 1) from System.Random(2026). Backend
// cpu is the best SIMD tier on every thread, scalar the scalar tier (the baseline), opencl and
// cuda where present. A case is "shape/method/backend"; toy is 600 × 128 (the report's smoke mode).
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class WhiteningBenchmarks
{
    private float[] _features = [];
    private int _columns;
    private ComputeContext? _context;
    private WhiteningOptions _options = new();

    /// <summary>"shape/method/backend": shape baby-text(-steep, -flat), baby-image(-iid), electronics-image or toy; method exact or randomized; backend cpu, scalar, opencl or cuda.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "baby-text/exact/cpu";

    /// <remarks>Set STAIR_WHITEN_CASES to a comma-separated list of substrings to run only matching cases (BDN filters methods, not parameters).</remarks>
    public static IEnumerable<string> Cases() => BenchCases.Only("STAIR_WHITEN_CASES", AllCases());

    private static IEnumerable<string> AllCases()
    {
        string[] backends = ["cpu", "scalar", .. BenchCases.Devices()];
        foreach (string shape in new[] { "baby-text", "baby-text-steep", "baby-text-flat", "baby-image", "baby-image-iid", "electronics-image", "toy" })
        {
            foreach (string method in new[] { "exact", "randomized" })
            {
                foreach (string backend in backends)
                {
                    yield return $"{shape}/{method}/{backend}";
                }
            }
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split('/');
        _columns = Shape(parts[0]).Columns;
        _features = Features(parts[0]);
        _options = new WhiteningOptions { Dimension = Dimension, Method = parts[1] == "exact" ? WhiteningMethod.Exact : WhiteningMethod.Randomized };
        _context = parts[2] switch
        {
            "opencl" => ComputeContext.Create(Backend.OpenCL),
            "cuda" => ComputeContext.Create(Backend.Cuda),
            "scalar" => ComputeContext.Create(Backend.Cpu, new CpuOptions(SimdTier.Scalar)),
            _ => ComputeContext.Create(Backend.Cpu),
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _context?.Dispose();

    [Benchmark]
    public float[] Whiten() => _context!.Whiten([new WhiteningModality(_features, _columns, 1)], _options).ItemTable;

    /// <summary>The embedding width d of every case.</summary>
    internal const int Dimension = 64;

    /// <summary>Items × columns of a shape name: baby-text (and its -steep and -flat spectra), baby-image (and its i.i.d. -iid), electronics-image or toy.</summary>
    internal static (int Items, int Columns) Shape(string name) => name switch
    {
        "baby-text" or "baby-text-steep" or "baby-text-flat" => (7_050, 384),
        "baby-image" or "baby-image-iid" => (7_050, 4_096),
        "electronics-image" => (63_001, 4_096),
        "toy" => (600, 128),
        _ => throw new ArgumentException($"Unknown whitening shape '{name}' (baby-text, baby-text-steep, baby-text-flat, baby-image, baby-image-iid, electronics-image or toy).", nameof(name)),
    };

    /// <summary>The spectrum of a shape: σ_k ∝ k^-exponent over that many factors.</summary>
    internal static (double Exponent, int Factors) Spectrum(string shape) => shape switch
    {
        "baby-text-steep" => (1.5, 256),
        "baby-text-flat" => (0.0, 256),
        "toy" => (0.7, 96),
        _ => (0.7, 256),
    };

    /// <summary>The suite's features of a shape: <see cref="PowerLawFeatures"/> at its size and spectrum, seed 2026 (baby-image-iid: <see cref="UniformFeatures"/>).</summary>
    internal static float[] Features(string shape)
    {
        (int items, int columns) = Shape(shape);
        if (shape == "baby-image-iid")
        {
            return UniformFeatures(items, columns, 2026);
        }
        (double exponent, int factors) = Spectrum(shape);
        return PowerLawFeatures(items, columns, 2026, exponent, factors);
    }

    /// <summary>Items × columns i.i.d. uniform [0, 1) features from System.Random(seed), row by row.</summary>
    internal static float[] UniformFeatures(int items, int columns, int seed)
    {
        var rng = new Random(seed);
        var x = new float[(long)items * columns];
        for (long k = 0; k < x.Length; k++)
        {
            x[k] = rng.NextSingle();
        }
        return x;
    }

    /// <summary>Items × columns features X = A·B + noise + mean, σ_k of A·B ∝ k^-exponent over <paramref name="factors"/> factors.</summary>
    internal static float[] PowerLawFeatures(int items, int columns, ulong seed, double exponent = 0.7, int factors = 256)
    {
        var rng = new Random((int)seed);
        var a = new float[items * factors];
        var b = new float[factors * columns];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)(rng.NextDouble() - 0.5);
        }
        for (int k = 0; k < factors; k++)
        {
            float scale = (float)Math.Pow(k + 1, -exponent);
            for (int c = 0; c < columns; c++)
            {
                b[k * columns + c] = (float)(rng.NextDouble() - 0.5) * scale;
            }
        }
        var x = new float[(long)items * columns];
        Parallel.For(0, items, i =>
        {
            var row = new float[columns];
            for (int k = 0; k < factors; k++)
            {
                float aik = a[i * factors + k];
                for (int c = 0; c < columns; c++)
                {
                    row[c] += aik * b[k * columns + c];
                }
            }
            var noise = new Random(i);
            for (int c = 0; c < columns; c++)
            {
                x[(long)i * columns + c] = row[c] + 0.02f * (float)(noise.NextDouble() - 0.5) + 1f;
            }
        });
        return x;
    }
}
