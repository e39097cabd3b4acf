// The element-wise loops of the embedding update over the vector types of Cpu/Simd: an
// operator (AdamOperators.cs) is applied in chunks of the tier's width, the leftover of a row
// in narrower chunks, so the Adam math exists once for every tier.
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.EmbeddingUpdate;

/// <summary>An element-wise step over flat index i, for any vector width.</summary>
internal interface IElementOp
{
    void Invoke<TVec>(long i)
        where TVec : struct, IFloatVector<TVec>;
}

/// <summary>An element operation that clamps, and says whether it clamped since it was last reset.</summary>
internal interface IClampingOp : IElementOp
{
    bool Clamped { get; set; }
}

[SkipLocalsInit]
internal static unsafe class ElementDriver
{
    /// <summary>Runs <paramref name="op"/> row by row over [start, end) and returns the number of rows it clamped.</summary>
    public static long RunCountingClampedRows<TOp>(SimdTier tier, long start, long end, int width, ref TOp op)
        where TOp : struct, IClampingOp
    {
        long clipped = 0;
        for (long i = start; i < end; i += width)
        {
            op.Clamped = false;
            Run(tier, i, i + width, ref op);
            clipped += op.Clamped ? 1 : 0;
        }
        return clipped;
    }

    /// <summary>Runs <paramref name="op"/> over [start, end): chunks of the tier's width, then 8, 4 and 1 lanes for the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TOp>(SimdTier tier, long start, long end, ref TOp op)
        where TOp : struct, IElementOp
    {
        var kernel = new RunKernel<TOp>(ref op, start, end);
        SimdDispatch.Run(tier, ref kernel);
    }

    /// <summary>True when any of x[start..end) is NaN or ±∞.</summary>
    public static bool AnyNonFinite(SimdTier tier, float* x, long start, long end)
    {
        var kernel = new NonFiniteKernel { X = x, Start = start, End = end };
        SimdDispatch.Run(tier, ref kernel);
        return kernel.Found;
    }

    /// <summary>
    /// Σ x_j² over one row in a fixed order shared by every tier: sixteen partial sums (lane l takes
    /// the j ≡ l mod 16, one fma each in storage order), then a fixed tree (l + 8, l + 4, l + 2, l + 1).
    /// AVX-512 holds the sixteen partials in one register, AVX2 in two, scalar in sixteen floats.
    /// </summary>
    public static float RowSumOfSquares(SimdTier tier, float* row, int width)
    {
        var kernel = new SumOfSquaresKernel { Row = row, Width = width };
        SimdDispatch.Run(tier, ref kernel);
        return kernel.Result;
    }

    private ref struct RunKernel<TOp>(ref TOp op, long start, long end) : ISimdKernel
        where TOp : struct, IElementOp
    {
        private ref TOp _op = ref op;

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            long i = start;
            for (; i + TVec.Count <= end; i += TVec.Count)
            {
                _op.Invoke<TVec>(i);
            }
            if (TVec.Count > 8)
            {
                for (; i + 8 <= end; i += 8)
                {
                    _op.Invoke<Float256>(i);
                }
            }
            if (TVec.Count > 4)
            {
                for (; i + 4 <= end; i += 4)
                {
                    _op.Invoke<Float128>(i);
                }
            }
            for (; i < end; i++)
            {
                _op.Invoke<Float1>(i);
            }
        }
    }

    private struct NonFiniteKernel : ISimdKernel
    {
        public float* X;
        public long Start, End;
        public bool Found;

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            float* x = X;
            long i = Start, end = End;
            int w = TVec.Count;
            if (w > 8)
            {
                TVec zero = TVec.Zero;
                for (; i + 4 * w <= end; i += 4 * w)
                {
                    // Four vectors per test: x·0 is 0 for finite lanes, NaN otherwise, and NaN survives the sums.
                    TVec a = TVec.Load(x + i), b = TVec.Load(x + i + w), c = TVec.Load(x + i + 2 * w), d = TVec.Load(x + i + 3 * w);
                    if (TVec.AnyNonFinite(TVec.Add(TVec.Add(TVec.Add(TVec.Mul(a, zero), TVec.Mul(b, zero)), TVec.Mul(c, zero)), TVec.Mul(d, zero))))
                    {
                        Found = true;
                        return;
                    }
                }
            }
            if (w > 1)
            {
                for (; i + w <= end; i += w)
                {
                    if (TVec.AnyNonFinite(TVec.Load(x + i)))
                    {
                        Found = true;
                        return;
                    }
                }
            }
            if (w > 8)
            {
                for (; i + 8 <= end; i += 8)
                {
                    if (Float256.AnyNonFinite(Float256.Load(x + i)))
                    {
                        Found = true;
                        return;
                    }
                }
            }
            for (; i < end; i++)
            {
                if (!float.IsFinite(x[i]))
                {
                    Found = true;
                    return;
                }
            }
            Found = false;
        }
    }

    private struct SumOfSquaresKernel : ISimdKernel
    {
        public float* Row;
        public int Width;
        public float Result;

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            float* row = Row;
            int width = Width;
            int full = width & ~15;
            int rest = width - full;
            float* tail = stackalloc float[16];
            if (rest > 0)
            {
                // Zero-padded lanes add fma(0, 0, p) = p exactly (p ≥ 0), so the padding changes nothing.
                new Span<float>(tail, 16).Clear();
                new ReadOnlySpan<float>(row + full, rest).CopyTo(new Span<float>(tail, rest));
            }
            if (TVec.Count >= 8)
            {
                // Lanes 0–7 (or all sixteen) in a0, lanes 8–15 in a1.
                TVec a0 = TVec.Zero, a1 = TVec.Zero;
                for (int j = 0; j < full + (rest > 0 ? 16 : 0); j += 16)
                {
                    float* p = j < full ? row + j : tail;
                    TVec x0 = TVec.Load(p);
                    a0 = TVec.Fma(x0, x0, a0);
                    if (TVec.Count == 8)
                    {
                        TVec x1 = TVec.Load(p + 8);
                        a1 = TVec.Fma(x1, x1, a1);
                    }
                }
                Result = FloatLanes16.Tree(a0, a1);
                return;
            }
            float* lanes = stackalloc float[16];
            new Span<float>(lanes, 16).Clear();
            for (int j = 0; j < full + (rest > 0 ? 16 : 0); j += 16)
            {
                float* p = j < full ? row + j : tail;
                for (int l = 0; l < 16; l += TVec.Count)
                {
                    TVec x = TVec.Load(p + l);
                    TVec.Store(TVec.Fma(x, x, TVec.Load(lanes + l)), lanes + l);
                }
            }
            Result = FloatLanes16.Tree(lanes);
        }
    }
}
