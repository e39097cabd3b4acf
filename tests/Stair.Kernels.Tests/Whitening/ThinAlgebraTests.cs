// The float64 thin transposed product AᵀB of whitening's subspace iteration: every SIMD tier
// (8×16 AVX-512 tiles, 8×8 AVX2 tiles, 8×2 scalar tiles) against a plain double loop on awkward
// shapes (ℓ not a multiple of the tile, one row, symmetric and not).
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Tests.Whitening;

public class ThinAlgebraTests
{
    public static TheoryData<SimdTier> Tiers() => new() { SimdTier.Avx512, SimdTier.Avx2, SimdTier.Scalar };

    private static double[] Reference(float[] a, int la, float[] b, int lb, int n)
    {
        var m = new double[la * lb];
        for (int i = 0; i < la; i++)
        {
            for (int j = 0; j < lb; j++)
            {
                double s = 0;
                for (int r = 0; r < n; r++)
                {
                    s += (double)a[r * la + i] * b[r * lb + j];
                }
                m[i * lb + j] = s;
            }
        }
        return m;
    }

    [SkippableTheory]
    [MemberData(nameof(Tiers))]
    public void TransposedProductMatchesFloat64Loop(SimdTier tier)
    {
        TierCoverage.SkipUnlessHardware(tier);
        foreach ((int n, int la, int lb) in new[] { (1, 1, 1), (5, 13, 37), (300, 96, 96), (77, 8, 16), (1000, 41, 129), (64, 17, 9) })
        {
            float[] a = HostMatrixOps.Gaussian(n, la, (ulong)(n + la));
            float[] b = HostMatrixOps.Gaussian(n, lb, (ulong)(n + lb + 1));
            double[] expected = Reference(a, la, b, lb, n);
            double[] actual = ThinAlgebra.TransposedProduct(a, la, b, lb, n, 2, tier);
            // Float64 sums of n products of floats (exact in double): only the summation order differs,
            // ~n·ε·Σ|terms|; 1e-12 relative to √n (the size of a sum of n unit Gaussians products) is far above it.
            for (int k = 0; k < expected.Length; k++)
            {
                Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-12 * Math.Max(1, n), $"n={n} ℓ={la}×{lb} entry {k}: {actual[k]} vs {expected[k]}");
            }
            double[] gram = ThinAlgebra.TransposedProduct(a, la, a, la, n, 1, tier);
            double[] gramExpected = Reference(a, la, a, la, n);
            for (int k = 0; k < gram.Length; k++)
            {
                Assert.True(Math.Abs(gram[k] - gramExpected[k]) <= 1e-12 * Math.Max(1, n), $"Gram n={n} ℓ={la} entry {k}");
            }
            for (int i = 0; i < la; i++)
            {
                for (int j = 0; j < la; j++)
                {
                    Assert.Equal(gram[i * la + j], gram[j * la + i]);
                }
            }
        }
    }
}
