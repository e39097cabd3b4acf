// The SIMD finite-value scan behind whitening's input check: first bad index in row-major
// order, on the single-thread path and the split one (≥ 4 M values), with bad values in a
// vector body, in a tail and in several parts at once.
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
        Assert.Equal(-1, Stair.Kernels.Whitening.FirstNonFinite(x, threads));
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            foreach (int at in new[] { 0, length / 2, length - 1 })
            {
                float saved = x[at];
                x[at] = bad;
                Assert.Equal(at, Stair.Kernels.Whitening.FirstNonFinite(x, threads));
                if (at + 1 < length)
                {
                    // A second bad value later (another part on the split path) does not hide the first.
                    x[length - 1] = float.NaN;
                    Assert.Equal(at, Stair.Kernels.Whitening.FirstNonFinite(x, threads));
                    x[length - 1] = (length - 1) % 7 - 3.5f;
                }
                x[at] = saved;
            }
        }
        x[length - 1] = float.MaxValue;
        Assert.Equal(-1, Stair.Kernels.Whitening.FirstNonFinite(x, threads));
    }
}
