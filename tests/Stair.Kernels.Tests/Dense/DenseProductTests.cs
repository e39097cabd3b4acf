// DenseProduct (C = A·Bᵀ) on every SIMD tier against the float64 reference on awkward sizes
// (m, n, k around the 6-row tile, the 16/64-column panels, the 256-deep k-block and the
// 96-row part), with padded leading dimensions, poisoned outputs and padding that must stay
// untouched; plus the determinism promise (an element depends only on its two rows and k),
// the self product's exact symmetry, and argument validation before anything is written.
using Stair.Kernels.Cpu.Dense;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Dense;

public unsafe class DenseProductTests
{
    private const float Pad = -777f;

    // (m, n, k): ones, tile/panel edges (6, 16, 64), k not a multiple of 16, k beyond one k-block (256).
    private static readonly (int M, int N, int K)[] Sizes =
    [
        (1, 1, 1), (1, 3, 15), (3, 1, 16), (1, 100, 17), (100, 1, 33), (15, 16, 17), (16, 17, 15),
        (17, 33, 100), (33, 100, 3), (6, 64, 64), (7, 65, 257), (100, 257, 17), (257, 100, 33),
        (97, 80, 600), (13, 200, 513),
    ];

    public static TheoryData<SimdTier, int, int, int, int> TierSizes()
    {
        var data = new TheoryData<SimdTier, int, int, int, int>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach ((int m, int n, int k) in Sizes)
            {
                data.Add(tier, m, n, k, 1 + (m + n + k) % 2);
            }
        }
        return data;
    }

    public static TheoryData<SimdTier> Tiers()
    {
        var data = new TheoryData<SimdTier>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            data.Add(tier);
        }
        return data;
    }

    internal static float[] Table(int rows, int stride, int seed)
    {
        float[] t = SyntheticGraphs.UniformTable(rows * stride, (ulong)seed);
        for (int i = 0; i < t.Length; i++)
        {
            t[i] = 2 * t[i] - 1; // both signs, so the chains cancel and the relative bound matters
        }
        return t;
    }

    private static float[] Multiply(SimdTier tier, int threads, float[] a, int lda, float[] b, int ldb, int m, int n, int k, int ldc, long? budget = null)
    {
        float[] c = new float[Math.Max(1, m * ldc)];
        c.AsSpan().Fill(Pad);
        for (int i = 0; i < m; i++)
        {
            c.AsSpan(i * ldc, n).Fill(float.NaN); // poison: an unwritten element fails the comparison
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (budget is long bytes)
            {
                DenseProduct.MultiplyWithPackBudget(bytes, self: false, tier, threads, pa, lda, pb, ldb, pc, ldc, m, n, k);
            }
            else
            {
                DenseProduct.MultiplyTransposed(tier, threads, pa, lda, pb, ldb, pc, ldc, m, n, k);
            }
        }
        return c;
    }

    private static float[] Dense(float[] c, int m, int n, int ldc)
    {
        var d = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                if (j < n)
                {
                    d[i * n + j] = c[i * ldc + j];
                }
                else
                {
                    Assert.True(c[i * ldc + j] == Pad, $"padding C[{i}, {j}] beyond n = {n} was written");
                }
            }
        }
        return d;
    }

    private static void AssertMatchesReference(float[] a, int lda, float[] b, int ldb, int m, int n, int k, float[] actual, string what)
    {
        double[] expected = Float64Reference.MultiplyTransposed(a, lda, b, ldb, m, n, k);
        double[] bound = Float64Reference.MultiplyTransposed(a, lda, b, ldb, m, n, k, absolute: true);
        Reference.AssertClose(expected, bound, actual, Float64Reference.DenseProductTolerance(k), what);
    }

    [Theory]
    [MemberData(nameof(TierSizes))]
    public void Matches_float64_on_awkward_sizes_with_padded_leading_dimensions(SimdTier tier, int m, int n, int k, int threads)
    {
        int lda = k + 3, ldb = k + 5, ldc = n + 2;
        float[] a = Table(m, lda, seed: m * 31 + k);
        float[] b = Table(n, ldb, seed: n * 17 + k + 1);
        float[] c = Multiply(tier, threads, a, lda, b, ldb, m, n, k, ldc);
        AssertMatchesReference(a, lda, b, ldb, m, n, k, Dense(c, m, n, ldc), $"{tier} {m}x{n}x{k}");
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Tight_leading_dimensions_and_many_column_chunks_match_float64(SimdTier tier)
    {
        const int m = 40, n = 300, k = 70;
        float[] a = Table(m, k, seed: 5);
        float[] b = Table(n, k, seed: 6);
        // A budget of 64 columns × k floats forces five column chunks (the last 44 wide).
        float[] c = Multiply(tier, 2, a, k, b, k, m, n, k, n, budget: 64L * k);
        AssertMatchesReference(a, k, b, k, m, n, k, c, $"{tier} chunked");
        Bits.AssertBitsEqual(c, Multiply(tier, 2, a, k, b, k, m, n, k, n), "2 threads vs 1");
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Self_product_is_exactly_symmetric_matches_float64_and_equals_the_general_product_bitwise(SimdTier tier)
    {
        foreach ((int m, int k) in new[] { (1, 1), (5, 3), (17, 33), (97, 17), (200, 300), (130, 16) })
        {
            int lda = k + 1, ldc = m + 3;
            float[] a = Table(m, lda, seed: m + 7 * k);
            foreach (long? budget in new long?[] { null, 64L * k })
            {
                float[] c = new float[m * ldc];
                c.AsSpan().Fill(Pad);
                for (int i = 0; i < m; i++)
                {
                    c.AsSpan(i * ldc, m).Fill(float.NaN);
                }
                fixed (float* pa = a, pc = c)
                {
                    if (budget is long floats)
                    {
                        DenseProduct.MultiplyWithPackBudget(floats, self: true, tier, 2, pa, lda, pa, lda, pc, ldc, m, m, k);
                    }
                    else
                    {
                        DenseProduct.MultiplySelfTransposed(tier, 2, pa, lda, pc, ldc, m, k);
                    }
                }
                float[] d = Dense(c, m, m, ldc);
                string what = $"{tier} self {m}x{k} budget {budget}";
                AssertMatchesReference(a, lda, a, lda, m, m, k, d, what);
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < i; j++)
                    {
                        Assert.True(BitConverter.SingleToInt32Bits(d[i * m + j]) == BitConverter.SingleToInt32Bits(d[j * m + i]), $"{what}: C[{i},{j}] != C[{j},{i}]");
                    }
                }
                float[] general = Dense(Multiply(tier, 1, a, lda, a, lda, m, m, k, ldc), m, m, ldc);
                Bits.AssertBitsEqual(general, d, "self product vs the general product");
            }
        }
    }

    [Fact]
    public void Every_tier_and_thread_count_gives_bitwise_identical_results()
    {
        const int m = 101, n = 131, k = 300;
        float[] a = Table(m, k, seed: 11);
        float[] b = Table(n, k, seed: 12);
        float[] expected = Multiply(SimdTier.Scalar, 1, a, k, b, k, m, n, k, n);
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Bits.AssertBitsEqual(expected, Multiply(tier, threads, a, k, b, k, m, n, k, n), "tier/thread product vs the first");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void An_element_depends_only_on_its_two_rows_and_k(SimdTier tier)
    {
        const int m = 110, n = 150, k = 333;
        float[] a = Table(m, k, seed: 21);
        float[] b = Table(n, k, seed: 22);
        float[] full = Multiply(tier, 2, a, k, b, k, m, n, k, n);
        var random = new Random(5);
        for (int trial = 0; trial < 40; trial++)
        {
            // A sub-block starting at (i0, j0): every element lands at another tile position, in
            // another part, with other m and n, and runs on one thread.
            int i0 = random.Next(m), j0 = random.Next(n);
            int mm = 1 + random.Next(m - i0), nn = 1 + random.Next(n - j0);
            float[] sub = Multiply(tier, 1, a[(i0 * k)..], k, b[(j0 * k)..], k, mm, nn, k, nn);
            for (int i = 0; i < mm; i++)
            {
                for (int j = 0; j < nn; j++)
                {
                    float x = full[(i0 + i) * n + j0 + j], y = sub[i * nn + j];
                    Assert.True(BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y),
                        $"{tier}: C[{i0 + i},{j0 + j}] = {x} in the full product but {y} in the {mm}x{nn} block at ({i0},{j0})");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Identical_rows_give_bitwise_identical_results(SimdTier tier)
    {
        const int m = 120, n = 90, k = 77;
        float[] a = Table(m, k, seed: 31);
        float[] b = Table(n, k, seed: 32);
        int[] copiesA = [0, 5, 6, 95, 96, 119];
        int[] copiesB = [1, 15, 16, 63, 64, 89];
        foreach (int i in copiesA)
        {
            Array.Copy(a, 3 * k, a, i * k, k);
        }
        foreach (int j in copiesB)
        {
            Array.Copy(b, 2 * k, b, j * k, k);
        }
        float[] c = Multiply(tier, 2, a, k, b, k, m, n, k, n);
        foreach (int i in copiesA)
        {
            Bits.AssertBitsEqual(c.AsSpan(3 * n, n).ToArray(), c.AsSpan(i * n, n).ToArray(), "identical rows");
        }
        for (int i = 0; i < m; i++)
        {
            foreach (int j in copiesB)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(c[i * n + 2]), BitConverter.SingleToInt32Bits(c[i * n + j]));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Empty_inner_dimension_gives_zeros_and_empty_outputs_write_nothing(SimdTier tier)
    {
        float[] c = Multiply(tier, 2, [], 1, [], 1, 3, 4, 0, 5);
        Bits.AssertBitsEqual(new float[12], Dense(c, 3, 4, 5), "empty inner dimension: zeros");
        float[] a = Table(3, 4, 1);
        float[] untouched = Multiply(tier, 2, a, 4, a, 4, 3, 0, 4, 1);
        Assert.All(untouched, x => Assert.Equal(Pad, x));
        untouched = Multiply(tier, 2, a, 4, a, 4, 0, 3, 4, 3);
        Assert.All(untouched, x => Assert.Equal(Pad, x));
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument_before_writing()
    {
        float[] a = Table(4, 8, 1);
        float[] c = ArgumentAssert.Poisoned(16);
        float[] before = (float[])c.Clone();
        fixed (float* pa = a, pc = c)
        {
            float* x = pa, y = pc;
            SimdTier best = SimdTiers.Best;
            ArgumentAssert.Throws("tier", () => DenseProduct.MultiplyTransposed(SimdTier.Auto, 1, x, 8, x, 8, y, 4, 4, 4, 8));
            ArgumentAssert.Throws("tier", () => DenseProduct.MultiplyTransposed((SimdTier)9, 1, x, 8, x, 8, y, 4, 4, 4, 8));
            ArgumentAssert.Throws("threads", () => DenseProduct.MultiplyTransposed(best, 0, x, 8, x, 8, y, 4, 4, 4, 8));
            ArgumentAssert.Throws("m", () => DenseProduct.MultiplyTransposed(best, 1, x, 8, x, 8, y, 4, -1, 4, 8));
            ArgumentAssert.Throws("n", () => DenseProduct.MultiplyTransposed(best, 1, x, 8, x, 8, y, 4, 4, -1, 8));
            ArgumentAssert.Throws("k", () => DenseProduct.MultiplyTransposed(best, 1, x, 8, x, 8, y, 4, 4, 4, -1));
            ArgumentAssert.Throws("lda", () => DenseProduct.MultiplyTransposed(best, 1, x, 7, x, 8, y, 4, 4, 4, 8));
            ArgumentAssert.Throws("ldb", () => DenseProduct.MultiplyTransposed(best, 1, x, 8, x, 7, y, 4, 4, 4, 8));
            ArgumentAssert.Throws("ldc", () => DenseProduct.MultiplyTransposed(best, 1, x, 8, x, 8, y, 3, 4, 4, 8));
            ArgumentAssert.Throws("a", () => DenseProduct.MultiplyTransposed(best, 1, null, 8, x, 8, y, 4, 4, 4, 8));
            ArgumentAssert.Throws("b", () => DenseProduct.MultiplyTransposed(best, 1, x, 8, null, 8, y, 4, 4, 4, 8));
            ArgumentAssert.Throws("c", () => DenseProduct.MultiplyTransposed(best, 1, x, 8, x, 8, null, 4, 4, 4, 8));
            ArgumentAssert.Throws("lda", () => DenseProduct.MultiplySelfTransposed(best, 1, x, 7, y, 4, 4, 8));
            ArgumentAssert.Throws("ldc", () => DenseProduct.MultiplySelfTransposed(best, 1, x, 8, y, 3, 4, 8));
        }
        ArgumentAssert.Untouched(before, c, "C");
    }
}
