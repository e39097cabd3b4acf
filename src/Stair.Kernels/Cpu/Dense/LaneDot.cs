// One dot product of two short rows that gives the same bits on every SIMD tier (used where
// a kernel scores a few rows, e.g. BPR's e_u·e_i; block products go through DenseProduct).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stair.Kernels.Cpu.Dense;

internal static class LaneDot
{
    /// <summary>
    /// Dot product with sixteen partial sums: lane l accumulates elements l, l + 16, … by FMA, the
    /// tail element by element into its lane, then the lanes are added in a fixed tree. Every tier
    /// performs exactly these operations, so the result is the same bits on each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, SimdTier tier)
    {
        int n = a.Length, full = n - n % 16;
        Span<float> lanes = stackalloc float[16];
        if (tier == SimdTier.Avx512)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (int c = 0; c < full; c += 16)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(c, 16)), Vector512.Create(b.Slice(c, 16)), acc);
            }
            acc.CopyTo(lanes);
        }
        else if (tier == SimdTier.Avx2)
        {
            Vector256<float> lo = Vector256<float>.Zero, hi = lo;
            for (int c = 0; c < full; c += 16)
            {
                lo = Vector256.FusedMultiplyAdd(Vector256.Create(a.Slice(c, 8)), Vector256.Create(b.Slice(c, 8)), lo);
                hi = Vector256.FusedMultiplyAdd(Vector256.Create(a.Slice(c + 8, 8)), Vector256.Create(b.Slice(c + 8, 8)), hi);
            }
            lo.CopyTo(lanes);
            hi.CopyTo(lanes[8..]);
        }
        else
        {
            lanes.Clear();
            for (int c = 0; c < full; c += 16)
            {
                for (int l = 0; l < 16; l++)
                {
                    lanes[l] = MathF.FusedMultiplyAdd(a[c + l], b[c + l], lanes[l]);
                }
            }
        }
        for (int c = full; c < n; c++)
        {
            lanes[c - full] = MathF.FusedMultiplyAdd(a[c], b[c], lanes[c - full]);
        }
        for (int half = 8; half >= 1; half /= 2)
        {
            for (int l = 0; l < half; l++)
            {
                lanes[l] += lanes[l + half];
            }
        }
        return lanes[0];
    }
}
