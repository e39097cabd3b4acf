// The thin float64 algebra of subspace iteration on the host: AᵀB of tall float32 matrices
// (register tiles written once over the double vectors of Cpu/Simd) and the Cholesky-based
// orthonormalizer of a Gram matrix.
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.WhiteningAlgebra;

internal static class ThinAlgebra
{
    /// <summary>
    /// Aᵀ·B in float64 for tall row-major n × ℓa and n × ℓb float32 matrices (ℓa × ℓb result, row-major): the ℓ-sized
    /// Gram and cross products of subspace iteration. Register tiles of M (8 rows × two double vectors of the tier:
    /// 8 × 16 on AVX-512, 8 × 8 on AVX2, 8 × 2 scalar) accumulate by FMA over the rows in order, reading both operands
    /// in their tall layout (no transposed copy); the entries no tile covers are plain float64 sums in row order. So any
    /// thread count gives the same bits, and the tiers agree up to float64 rounding. <paramref name="symmetric"/>:
    /// compute the upper triangle and mirror it (for a result symmetric in exact arithmetic, such as QᵀGQ; implied when
    /// a and b are the same array).
    /// </summary>
    public static double[] TransposedProduct(float[] a, int la, float[] b, int lb, int n, int threads, SimdTier tier, bool symmetric = false)
    {
        symmetric |= ReferenceEquals(a, b) && la == lb;
        var job = new TransposedProductJob(a, la, b, lb, n, symmetric, tier);
        // Below ~8 M multiply-adds (a few ms) a pool hand-off costs more than it saves.
        CpuWorkerPool.Shared.Run(job, (long)la * lb * n >= 8L << 20 ? Math.Max(1, threads) : 1);
        double[] m = job.Result;
        if (symmetric)
        {
            for (int i = 0; i < la; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    m[i * lb + j] = m[j * lb + i];
                }
            }
        }
        return m;
    }

    // One part per block of eight rows of M: its tiles over every chunk of input rows, so each entry's sum runs over
    // the rows in order whichever thread takes the part.
    private sealed class TransposedProductJob : ParallelJob, ISimdParts
    {
        private readonly float[] _a, _b;
        private readonly int _la, _lb, _n;
        private readonly bool _symmetric;
        private readonly SimdTier _tier;

        public TransposedProductJob(float[] a, int la, float[] b, int lb, int n, bool symmetric, SimdTier tier)
        {
            (_a, _la, _b, _lb, _n, _symmetric, _tier) = (a, la, b, lb, n, symmetric, tier);
            Result = new double[la * lb];
            PartCount = (la + 7) / 8;
        }

        public double[] Result { get; }

        public override void Execute(int part) => SimdDispatch.RunPart(_tier, this, part);

        public unsafe void ExecutePart<TVec, TDouble>(int part)
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            int tileJ = 2 * TDouble.Count;
            int i0 = part * 8, i1 = Math.Min(_la, i0 + 8);
            // Rows in chunks that stay in L2 while every tile of this block passes over them.
            int chunk = Math.Max(16, (96 << 10) / (4 * Math.Max(1, _la + _lb)));
            // Symmetric: only tiles reaching the upper triangle (the first may straddle the diagonal; its lower part is
            // overwritten by the mirror).
            int jStart = _symmetric ? i0 / tileJ * tileJ : 0;
            fixed (float* pa = _a, pb = _b)
            fixed (double* pm = Result)
            {
                for (int r0 = 0; r0 < _n; r0 += chunk)
                {
                    int r1 = Math.Min(_n, r0 + chunk);
                    int j0 = jStart;
                    if (i1 - i0 == 8)
                    {
                        for (; j0 + tileJ <= _lb; j0 += tileJ)
                        {
                            Tile<TDouble>(pa, _la, pb, _lb, r0, r1, i0, j0, pm);
                        }
                    }
                    if (j0 < _lb)
                    {
                        EdgeBlock(_a, _la, _b, _lb, r0, r1, i0, i1, j0, _lb, Result);
                    }
                }
            }
        }
    }

    // The entries no register tile covers: plain float64 multiply and add, rows in order.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void EdgeBlock(float[] a, int la, float[] b, int lb, int r0, int r1, int i0, int i1, int j0, int j1, double[] m)
    {
        for (int r = r0; r < r1; r++)
        {
            int ar = r * la, br = r * lb;
            for (int i = i0; i < i1; i++)
            {
                double x = a[ar + i];
                Span<double> row = m.AsSpan(i * lb, j1);
                for (int j = j0; j < j1; j++)
                {
                    row[j] += x * b[br + j];
                }
            }
        }
    }

    // M[i0..i0+8, j0..j0+2W) += Σ_r a[r, i]·b[r, j] over rows [r0, r1): sixteen accumulators, one FMA chain per entry.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<TVec>(float* pa, int la, float* pb, int lb, int r0, int r1, int i0, int j0, double* m)
        where TVec : struct, IDoubleVector<TVec>
    {
        int w = TVec.Count;
        double* o = m + i0 * lb + j0;
        TVec c00 = TVec.Load(o), c01 = TVec.Load(o + w);
        TVec c10 = TVec.Load(o + lb), c11 = TVec.Load(o + lb + w);
        TVec c20 = TVec.Load(o + 2 * lb), c21 = TVec.Load(o + 2 * lb + w);
        TVec c30 = TVec.Load(o + 3 * lb), c31 = TVec.Load(o + 3 * lb + w);
        TVec c40 = TVec.Load(o + 4 * lb), c41 = TVec.Load(o + 4 * lb + w);
        TVec c50 = TVec.Load(o + 5 * lb), c51 = TVec.Load(o + 5 * lb + w);
        TVec c60 = TVec.Load(o + 6 * lb), c61 = TVec.Load(o + 6 * lb + w);
        TVec c70 = TVec.Load(o + 7 * lb), c71 = TVec.Load(o + 7 * lb + w);
        float* ar = pa + (long)r0 * la + i0, br = pb + (long)r0 * lb + j0;
        for (int r = r0; r < r1; r++, ar += la, br += lb)
        {
            TVec.LoadWidenedPair(br, out TVec lo, out TVec hi);
            TVec.Broadcast8(ar, out TVec x0, out TVec x1, out TVec x2, out TVec x3, out TVec x4, out TVec x5, out TVec x6, out TVec x7);
            c00 = TVec.Fma(x0, lo, c00); c01 = TVec.Fma(x0, hi, c01);
            c10 = TVec.Fma(x1, lo, c10); c11 = TVec.Fma(x1, hi, c11);
            c20 = TVec.Fma(x2, lo, c20); c21 = TVec.Fma(x2, hi, c21);
            c30 = TVec.Fma(x3, lo, c30); c31 = TVec.Fma(x3, hi, c31);
            c40 = TVec.Fma(x4, lo, c40); c41 = TVec.Fma(x4, hi, c41);
            c50 = TVec.Fma(x5, lo, c50); c51 = TVec.Fma(x5, hi, c51);
            c60 = TVec.Fma(x6, lo, c60); c61 = TVec.Fma(x6, hi, c61);
            c70 = TVec.Fma(x7, lo, c70); c71 = TVec.Fma(x7, hi, c71);
        }
        TVec.Store(c00, o); TVec.Store(c01, o + w); o += lb;
        TVec.Store(c10, o); TVec.Store(c11, o + w); o += lb;
        TVec.Store(c20, o); TVec.Store(c21, o + w); o += lb;
        TVec.Store(c30, o); TVec.Store(c31, o + w); o += lb;
        TVec.Store(c40, o); TVec.Store(c41, o + w); o += lb;
        TVec.Store(c50, o); TVec.Store(c51, o + w); o += lb;
        TVec.Store(c60, o); TVec.Store(c61, o + w); o += lb;
        TVec.Store(c70, o); TVec.Store(c71, o + w);
    }

    /// <summary>
    /// The transform B (k × ℓ, row-major, float32) with Q = Y·Bᵀ orthonormal for the Gram M = YᵀY: B = L⁻¹·D^{-1/2}
    /// from the Cholesky factor of the unit-diagonal D^{-1/2} M D^{-1/2}. A column whose Cholesky pivot is at most
    /// <paramref name="dependent"/> of its own norm² (linearly dependent on earlier ones, or zero) is dropped, so k ≤ ℓ.
    /// </summary>
    public static float[] CholeskyOrthonormalizer(double[] m, int l, double dependent, out int k)
    {
        var scale = new double[l];
        for (int i = 0; i < l; i++)
        {
            scale[i] = m[i * l + i] > 0 ? 1.0 / Math.Sqrt(m[i * l + i]) : 0.0;
        }
        var lower = new double[l * l];
        var kept = new bool[l];
        for (int i = 0; i < l; i++)
        {
            if (scale[i] == 0)
            {
                continue;
            }
            for (int j = 0; j <= i; j++)
            {
                if (j < i && !kept[j])
                {
                    continue;
                }
                double s = m[i * l + j] * scale[i] * scale[j];
                for (int p = 0; p < j; p++)
                {
                    s -= lower[i * l + p] * lower[j * l + p];
                }
                if (j < i)
                {
                    lower[i * l + j] = s / lower[j * l + j];
                }
                else if (s > dependent)
                {
                    lower[i * l + i] = Math.Sqrt(s);
                    kept[i] = true;
                }
            }
            if (!kept[i])
            {
                lower.AsSpan(i * l, i).Clear();
            }
        }
        // Rows of L⁻¹ for the kept indices (forward substitution), then × D^{-1/2}.
        var inverse = new double[l * l];
        for (int i = 0; i < l; i++)
        {
            if (!kept[i])
            {
                continue;
            }
            inverse[i * l + i] = 1.0 / lower[i * l + i];
            for (int j = 0; j < i; j++)
            {
                if (!kept[j])
                {
                    continue;
                }
                double s = 0;
                for (int p = j; p < i; p++)
                {
                    s += lower[i * l + p] * inverse[p * l + j];
                }
                inverse[i * l + j] = -s / lower[i * l + i];
            }
        }
        k = kept.Count(x => x);
        var b = new float[k * l];
        int row = 0;
        for (int i = 0; i < l; i++)
        {
            if (!kept[i])
            {
                continue;
            }
            for (int j = 0; j <= i; j++)
            {
                b[row * l + j] = (float)(inverse[i * l + j] * scale[j]);
            }
            row++;
        }
        return b;
    }
}
