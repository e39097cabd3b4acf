// Batched whitening against float64 references: numpy.linalg.svd fixtures
// (Fixtures/make_whitening_fixtures.py) and MathNet's float64 SVD on seeded inputs of
// awkward sizes; every SIMD tier, both methods, every backend; rank and input edge cases.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.IO;
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Validation;
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Tests.Whitening;

public class WhiteningTests
{
    // Tolerances. Inputs are float32 (relative rounding 6e-8) and the exact path squares the
    // condition through the Gram matrix, so a singular vector moves by about
    // 6e-8·F·(σ_1/σ_j)²/(relative gap); the fixtures have σ_1/σ_d ≤ 10 and gaps ≥ 5 %, which bounds
    // that by ~1e-4 of an entry of size √(I/d); the bound is that estimate with a margin of two. Measured
    // worst (every tier, both methods): 4.0e-5 with the block eigensolver, 3.5e-6 with the dense one.
    // A wrong sign (an error of 2·max|W|) or a wrong column (an error of order 1) fails by four orders.
    private const double ElementTolerance = 2e-4;

    // sin of the largest principal angle between the computed and reference column spaces.
    private const double SubspaceTolerance = 1e-3;

    public static TheoryData<SimdTier, WhiteningMethod> TiersAndMethods()
    {
        var data = new TheoryData<SimdTier, WhiteningMethod>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            data.Add(tier, WhiteningMethod.Exact);
            data.Add(tier, WhiteningMethod.Randomized);
        }
        return data;
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "whitening", name);

    internal static float[] Features(int items, int columns, double decay, ulong seed)
    {
        float[] g = HostMatrixOps.Gaussian(items, columns, seed);
        var x = new float[g.Length];
        for (int i = 0; i < items; i++)
        {
            for (int c = 0; c < columns; c++)
            {
                x[i * columns + c] = (float)(g[i * columns + c] * Math.Pow(decay, c) + 1.5 + 0.1 * c);
            }
        }
        return x;
    }

    private static double MaxAbsDifference(float[] actual, double[] expected)
    {
        double worst = 0;
        for (int k = 0; k < actual.Length; k++)
        {
            worst = Math.Max(worst, Math.Abs(actual[k] - expected[k]));
        }
        return worst;
    }

    [Theory]
    [MemberData(nameof(TiersAndMethods))]
    public void MatchesNumpyFixtures(SimdTier tier, WhiteningMethod method)
    {
        foreach ((string name, int d) in new[] { ("tall", 5), ("wide", 6), ("rankdef", 6), ("second", 5) })
        {
            float[] x = Npy.ReadMatrix(Fixture($"{name}_x.npy"), out int items, out int columns);
            double[] w = Npy.Read(Fixture($"{name}_w.npy")).ToDoubleArray();
            double[] s = Npy.Read(Fixture($"{name}_s.npy")).ToDoubleArray();
            // Randomized with ℓ = d + p ≥ min(I, F) sketches the whole range, so it is exact here too.
            WhiteningResult r = Kernels.Whitening.Whiten([new WhiteningModality(x, columns, 1)],
                new WhiteningOptions { Dimension = d, Method = method }, new CpuOptions(tier));
            WhiteningModalityResult m = r.Modalities[0];
            int rank = Enumerable.Range(0, d).Count(j => Enumerable.Range(0, items).Any(i => w[i * d + j] != 0));
            Assert.Equal(rank, m.Rank);
            Assert.Equal(d - rank, m.ZeroColumns);
            // Relative to max |W| and to the fixture's conditioning (GramPrecisionTests.RelativeBound: 16·u₃₂·κ² exact,
            // 16·u₃₂·κ randomized; κ = σ₁/σ_rank ≤ 3.8 here, so 1.3e-5 and 3.6e-6). Measured worst: 2.3e-6 (wide, exact),
            // 3.0e-7 (randomized). The old 2e-3 absolute (above 1e-3 relative) was no bound on either.
            double kappa = s[0] / s[rank - 1], error = GramPrecisionTests.RelativeError(m.Embedding, w), bound = GramPrecisionTests.RelativeBound(method, kappa);
            Assert.True(error <= bound, $"{name}: max |W − W_numpy| / max |W_numpy| = {error:E2} > {bound:E2} (κ = {kappa:F2})");
            for (int j = 0; j < rank; j++)
            {
                Assert.True(Math.Abs(m.SingularValues[j] - s[j]) <= 1e-4 * s[0], $"{name}: σ_{j} = {m.SingularValues[j]} vs {s[j]}");
            }
            Stair.Kernels.Tests.Infrastructure.Bits.AssertBitsEqual(m.Embedding, r.ItemTable, $"{name}: the item table of one modality is its embedding");
        }
    }

    [Fact]
    public void FusesModalitiesByWeight()
    {
        float[] a = Npy.ReadMatrix(Fixture("tall_x.npy"), out int items, out int fa);
        float[] b = Npy.ReadMatrix(Fixture("second_x.npy"), out _, out int fb);
        double[] wa = Npy.Read(Fixture("tall_w.npy")).ToDoubleArray();
        double[] wb = Npy.Read(Fixture("second_w.npy")).ToDoubleArray();
        WhiteningResult r = Kernels.Whitening.Whiten([new WhiteningModality(a, fa, 5, "text"), new WhiteningModality(b, fb, 1, "image")],
            new WhiteningOptions { Dimension = 5 });
        var expected = wa.Select((v, k) => (5 * v + wb[k]) / 6).ToArray();
        Assert.True(MaxAbsDifference(r.ItemTable, expected) <= ElementTolerance);
        Assert.Equal(["text", "image"], r.Modalities.Select(m => m.Name));
    }

    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 300, 70, 17 },   // feature side, dense eigensolver
        { 45, 130, 9 },    // item side
        { 257, 33, 33 },   // d = F
        { 1, 5, 3 },       // one item: centered to zero
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ExactMatchesFloat64SvdOnEveryTier(int items, int columns, int d)
    {
        float[] x = Features(items, columns, 0.93, (ulong)(items * 1000 + columns));
        (double[] w, double[] s, int rank) = WhiteningReference.Whiten(x, items, columns, d);
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            WhiteningModalityResult m = Kernels.Whitening.Whiten([new WhiteningModality(x, columns, 2)],
                new WhiteningOptions { Dimension = d }, new CpuOptions(tier)).Modalities[0];
            Assert.Equal(rank, m.Rank);
            Assert.True(WhiteningReference.SubspaceSine(m.Embedding, w, items, d, rank) <= SubspaceTolerance);
            Assert.True(MaxAbsDifference(m.Embedding, w) <= ElementTolerance, $"{tier}: {MaxAbsDifference(m.Embedding, w):E2}");
            AssertWhitened(m, items, d);
        }
    }

    [Fact]
    public void BlockEigensolverMatchesDenseSolver()
    {
        // Force the block subspace iteration (used above DenseEigenLimit) on a side the dense solver can check.
        const int items = 400, columns = 150, d = 12;
        float[] x = Features(items, columns, 0.95, 99);
        (double[] w, _, int rank) = WhiteningReference.Whiten(x, items, columns, d);
        try
        {
            WhiteningSolver.OverrideDenseEigenLimit(64);
            int before = WhiteningSolver.BlockStepsOnThread;
            WhiteningModalityResult m = Kernels.Whitening.Whiten([new WhiteningModality(x, columns, 1)], new WhiteningOptions { Dimension = d }).Modalities[0];
            Assert.Equal(rank, m.Rank);
            Assert.True(MaxAbsDifference(m.Embedding, w) <= ElementTolerance, $"{MaxAbsDifference(m.Embedding, w):E2}");
            Assert.True(WhiteningSolver.BlockStepsOnThread > before, "the block iteration did not run");
        }
        finally
        {
            WhiteningSolver.OverrideDenseEigenLimit(0);
        }
    }

    [Theory]
    [MemberData(nameof(TiersAndMethods))]
    public void RandomizedStaysCloseToExact(SimdTier tier, WhiteningMethod method)
    {
        // σ_j ∝ 0.9^j: the sketch of width d + p = 52 with q = 3 passes leaves the top-20 subspace off by about
        // (σ_53/σ_20)^(2q+1) = 0.9^(33·7) ≈ 3e-11 (Halko, Martinsson & Tropp 2011, §10) — below float32 rounding, so
        // what remains is the ~1e-5 of float32 itself; 1e-3 is a safe bound that a missed direction (sin ≈ 1) breaks.
        const int items = 500, columns = 200, d = 20;
        float[] x = Features(items, columns, 0.9, 7);
        (double[] w, _, int rank) = WhiteningReference.Whiten(x, items, columns, d);
        WhiteningModalityResult m = Kernels.Whitening.Whiten([new WhiteningModality(x, columns, 1)],
            new WhiteningOptions { Dimension = d, Method = method }, new CpuOptions(tier)).Modalities[0];
        Assert.Equal(rank, m.Rank);
        Assert.True(WhiteningReference.SubspaceSine(m.Embedding, w, items, d, rank) <= SubspaceTolerance);
        AssertWhitened(m, items, d);
    }

    // WᵀW = (I/d)·Id on the kept columns, zero elsewhere; each kept column's largest entry positive.
    private static void AssertWhitened(WhiteningModalityResult m, int items, int d)
    {
        for (int a = 0; a < d; a++)
        {
            for (int b = a; b < d; b++)
            {
                double dot = 0;
                for (int i = 0; i < items; i++)
                {
                    dot += (double)m.Embedding[i * d + a] * m.Embedding[i * d + b];
                }
                double expected = a == b && a < m.Rank ? (double)items / d : 0;
                Assert.True(Math.Abs(dot - expected) <= 1e-4 * items / d, $"(WᵀW)[{a},{b}] = {dot}, expected {expected}");
            }
            if (a < m.Rank)
            {
                int best = 0;
                for (int i = 1; i < items; i++)
                {
                    if (Math.Abs(m.Embedding[i * d + a]) > Math.Abs(m.Embedding[best * d + a]))
                    {
                        best = i;
                    }
                }
                Assert.True(m.Embedding[best * d + a] > 0, $"column {a}: largest entry is negative");
            }
        }
    }
}
