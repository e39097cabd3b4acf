// The float64 thin cross product AᵀB of whitening's subspace iteration: every SIMD path
// (8×16 AVX-512 tiles, 8×8 Vector256 tiles, scalar) against a plain double loop on awkward
// shapes (ℓ not a multiple of the tile, one row, symmetric and not).
using Stair.Kernels.WhiteningCore;

namespace Stair.Kernels.Tests.Whitening;

public class ThinAlgebraTests
{
    public static TheoryData<int> Paths() => new() { 0, 1, 2 };

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
    [MemberData(nameof(Paths))]
    public void CrossProductMatchesFloat64Loop(int path)
    {
        Skip.If(path == 0 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, "the AVX-512 tile path needs Vector512 hardware acceleration, which this process does not have");
        bool? saved = ThinAlgebra.UseVector512;
        ThinAlgebra.UseVector512 = path == 0;
        ThinAlgebra.ForceScalar = path == 2;
        try
        {
            foreach ((int n, int la, int lb) in new[] { (1, 1, 1), (5, 13, 37), (300, 96, 96), (77, 8, 16), (1000, 41, 129), (64, 17, 9) })
            {
                float[] a = HostDense.Gaussian(n, la, (ulong)(n + la));
                float[] b = HostDense.Gaussian(n, lb, (ulong)(n + lb + 1));
                double[] expected = Reference(a, la, b, lb, n);
                double[] actual = ThinAlgebra.CrossProduct(a, la, b, lb, n, 2);
                // Float64 sums of n products of floats (exact in double): only the summation order differs,
                // ~n·ε·Σ|terms|; 1e-12 relative to √n (the size of a sum of n unit Gaussians products) is far above it.
                for (int k = 0; k < expected.Length; k++)
                {
                    Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-12 * Math.Max(1, n), $"n={n} ℓ={la}×{lb} entry {k}: {actual[k]} vs {expected[k]}");
                }
                double[] gram = ThinAlgebra.CrossProduct(a, la, a, la, n, 1);
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
        finally
        {
            ThinAlgebra.UseVector512 = saved;
            ThinAlgebra.ForceScalar = false;
        }
    }
}
