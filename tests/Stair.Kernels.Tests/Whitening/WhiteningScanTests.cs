// The SIMD finite-value scan behind whitening's input check, on every tier: first bad index in row-major
// order, on the single-thread path and the split one (≥ 4 M values), with bad values in a
// vector body, in a tail and in several parts at once. And the CPU centering pass: X_c and
// its transpose (8 × 8 register blocks plus element-wise edges) against a plain loop.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Tests.Whitening;

public class WhiteningScanTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 1)]
    [InlineData(5_000_003, 2)]
    [InlineData(5_000_003, 1)]
    public void FindsTheFirstNonFiniteValue(int length, int threads)
    {
        var x = new float[length];
        for (int k = 0; k < length; k++)
        {
            x[k] = (k % 7) - 3.5f;
        }
        foreach (SimdTier tier in TierCoverage.Expected()) // every tier's vector scan, and the scalar one
        {
            Assert.Equal(-1, Stair.Kernels.Whitening.FirstNonFinite(x, tier, threads));
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                foreach (int at in new[] { 0, length / 2, length - 1 })
                {
                    float saved = x[at];
                    x[at] = bad;
                    Assert.Equal(at, Stair.Kernels.Whitening.FirstNonFinite(x, tier, threads));
                    if (at + 1 < length)
                    {
                        // A second bad value later (another part on the split path) does not hide the first.
                        x[length - 1] = float.NaN;
                        Assert.Equal(at, Stair.Kernels.Whitening.FirstNonFinite(x, tier, threads));
                        x[length - 1] = (length - 1) % 7 - 3.5f;
                    }
                    x[at] = saved;
                }
            }
            x[length - 1] = float.MaxValue;
            Assert.Equal(-1, Stair.Kernels.Whitening.FirstNonFinite(x, tier, threads));
            x[length - 1] = (length - 1) % 7 - 3.5f;
        }
    }

    [Theory]
    [InlineData(1, 1, 2)]
    [InlineData(37, 29, 2)]
    [InlineData(64, 64, 1)]
    [InlineData(70, 130, 2)]
    [InlineData(131, 67, 2)]
    [InlineData(300, 8, 1)]
    public void CenteringWritesXcAndItsExactTranspose(int rows, int columns, int threads)
    {
        float[] x = HostMatrixOps.Gaussian(rows, columns, (ulong)(rows * 1000 + columns));
        for (int k = 0; k < x.Length; k++)
        {
            x[k] += 3 + k % 5;
        }
        using var device = new CpuWhiteningDevice(SimdTiers.Best, threads);
        (DenseOperand xc, DenseOperand xt) = device.LoadCentered(x, rows, columns);
        using (xc)
        using (xt)
        {
            float[] c = device.Download(xc), t = device.Download(xt);
            for (int j = 0; j < columns; j++)
            {
                double sum = 0;
                for (int i = 0; i < rows; i++)
                {
                    sum += x[i * columns + j];
                }
                float mean = (float)(sum / rows);
                for (int i = 0; i < rows; i++)
                {
                    // Float64 column means rounded once to float32, then one float32 subtraction: exact expectations.
                    Assert.Equal(x[i * columns + j] - mean, c[i * columns + j]);
                    Assert.Equal(c[i * columns + j], t[(long)j * rows + i]);
                }
            }
        }
    }
}
