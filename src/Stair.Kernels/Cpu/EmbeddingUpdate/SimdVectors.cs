// One element-wise kernel body for every SIMD tier: the Adam math is written once, generic
// over a vector type (1, 4, 8 or 16 float lanes), and the JIT specializes it per width. Every
// operation is a single correctly rounded IEEE operation (fma, ×, ÷, √, min, max) at every
// width, so the AVX-512, AVX2 and scalar tiers produce bitwise identical elements.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stair.Kernels.Cpu.EmbeddingUpdate;

internal unsafe interface IVec<TSelf>
    where TSelf : struct, IVec<TSelf>
{
    static abstract int Count { get; }

    static abstract TSelf Load(float* p);

    static abstract void Store(TSelf x, float* p);

    static abstract TSelf Splat(float x);

    /// <summary>a·b + c with one rounding.</summary>
    static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);

    static abstract TSelf Mul(TSelf a, TSelf b);

    static abstract TSelf Div(TSelf a, TSelf b);

    static abstract TSelf Sqrt(TSelf a);

    static abstract TSelf Clamp(TSelf a, TSelf lo, TSelf hi);

    /// <summary>True when any lane is NaN or ±∞ (x − x is then NaN, else 0).</summary>
    static abstract bool AnyNonFinite(TSelf a);

    /// <summary>True when any lane of a differs from b (for finite lanes).</summary>
    static abstract bool AnyDifferent(TSelf a, TSelf b);
}

internal readonly unsafe struct V1(float x) : IVec<V1>
{
    public readonly float X = x;

    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Load(float* p) => new(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V1 x, float* p) => *p = x.X;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Splat(float x) => new(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Fma(V1 a, V1 b, V1 c) => new(MathF.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Mul(V1 a, V1 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Div(V1 a, V1 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Sqrt(V1 a) => new(MathF.Sqrt(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V1 Clamp(V1 a, V1 lo, V1 hi) => new(MathF.Min(MathF.Max(a.X, lo.X), hi.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNonFinite(V1 a) => !float.IsFinite(a.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyDifferent(V1 a, V1 b) => a.X != b.X;
}

internal readonly unsafe struct V128(Vector128<float> x) : IVec<V128>
{
    public readonly Vector128<float> X = x;

    public static int Count => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Load(float* p) => new(Vector128.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V128 x, float* p) => x.X.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Splat(float x) => new(Vector128.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Fma(V128 a, V128 b, V128 c) => new(Vector128.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Mul(V128 a, V128 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Div(V128 a, V128 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Sqrt(V128 a) => new(Vector128.Sqrt(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Clamp(V128 a, V128 lo, V128 hi) => new(Vector128.Min(Vector128.Max(a.X, lo.X), hi.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNonFinite(V128 a) => !Vector128.EqualsAll(a.X - a.X, Vector128<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyDifferent(V128 a, V128 b) => !Vector128.EqualsAll(a.X, b.X);
}

internal readonly unsafe struct V256(Vector256<float> x) : IVec<V256>
{
    public readonly Vector256<float> X = x;

    public static int Count => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Load(float* p) => new(Vector256.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V256 x, float* p) => x.X.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Splat(float x) => new(Vector256.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Fma(V256 a, V256 b, V256 c) => new(Vector256.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Mul(V256 a, V256 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Div(V256 a, V256 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Sqrt(V256 a) => new(Vector256.Sqrt(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Clamp(V256 a, V256 lo, V256 hi) => new(Vector256.Min(Vector256.Max(a.X, lo.X), hi.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNonFinite(V256 a) => !Vector256.EqualsAll(a.X - a.X, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyDifferent(V256 a, V256 b) => !Vector256.EqualsAll(a.X, b.X);
}

internal readonly unsafe struct V512(Vector512<float> x) : IVec<V512>
{
    public readonly Vector512<float> X = x;

    public static int Count => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Load(float* p) => new(Vector512.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V512 x, float* p) => x.X.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Splat(float x) => new(Vector512.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Fma(V512 a, V512 b, V512 c) => new(Vector512.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Mul(V512 a, V512 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Div(V512 a, V512 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Sqrt(V512 a) => new(Vector512.Sqrt(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Clamp(V512 a, V512 lo, V512 hi) => new(Vector512.Min(Vector512.Max(a.X, lo.X), hi.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNonFinite(V512 a) => !Vector512.EqualsAll(a.X - a.X, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyDifferent(V512 a, V512 b) => !Vector512.EqualsAll(a.X, b.X);
}

/// <summary>An element-wise step over flat index i, for any vector width.</summary>
internal interface IElementOp
{
    void Invoke<TVec>(long i)
        where TVec : struct, IVec<TVec>;
}

[SkipLocalsInit]
internal static unsafe class ElementDriver
{
    /// <summary>Runs <paramref name="op"/> over [start, end): 16-lane chunks on AVX-512, then 8, 4 and scalar for the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOp>(SimdTier tier, long start, long end, ref TOp op)
        where TOp : struct, IElementOp
    {
        long i = start;
        if (tier == SimdTier.Avx512)
        {
            for (; i + 16 <= end; i += 16)
            {
                op.Invoke<V512>(i);
            }
        }
        if (tier != SimdTier.Scalar)
        {
            for (; i + 8 <= end; i += 8)
            {
                op.Invoke<V256>(i);
            }
            for (; i + 4 <= end; i += 4)
            {
                op.Invoke<V128>(i);
            }
        }
        for (; i < end; i++)
        {
            op.Invoke<V1>(i);
        }
    }

    /// <summary>True when any of x[start..end) is NaN or ±∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AnyNonFinite(SimdTier tier, float* x, long start, long end)
    {
        long i = start;
        if (tier == SimdTier.Avx512)
        {
            for (; i + 64 <= end; i += 64)
            {
                // Four vectors per test: x − x is 0 for finite lanes, NaN otherwise, and NaN survives the sums.
                V512 a = V512.Load(x + i), b = V512.Load(x + i + 16), c = V512.Load(x + i + 32), d = V512.Load(x + i + 48);
                if (V512.AnyNonFinite(new V512(a.X * Vector512<float>.Zero + b.X * Vector512<float>.Zero + c.X * Vector512<float>.Zero + d.X * Vector512<float>.Zero)))
                {
                    return true;
                }
            }
            for (; i + 16 <= end; i += 16)
            {
                if (V512.AnyNonFinite(V512.Load(x + i)))
                {
                    return true;
                }
            }
        }
        if (tier != SimdTier.Scalar)
        {
            for (; i + 8 <= end; i += 8)
            {
                if (V256.AnyNonFinite(V256.Load(x + i)))
                {
                    return true;
                }
            }
        }
        for (; i < end; i++)
        {
            if (!float.IsFinite(x[i]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Σ x_j² over one row in a fixed order shared by every tier: sixteen partial sums (lane l takes
    /// the j ≡ l mod 16, one fma each in storage order), then a fixed tree (l + 8, l + 4, l + 2, l + 1).
    /// AVX-512 holds the sixteen partials in one register, AVX2 in two, scalar in sixteen floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float RowSumOfSquares(SimdTier tier, float* row, int width)
    {
        int full = width & ~15;
        float* tail = stackalloc float[16];
        int rest = width - full;
        if (rest > 0)
        {
            // Zero-padded lanes add fma(0, 0, p) = p exactly (p ≥ 0), so the padding changes nothing.
            new Span<float>(tail, 16).Clear();
            new ReadOnlySpan<float>(row + full, rest).CopyTo(new Span<float>(tail, rest));
        }
        Vector128<float> r;
        if (tier == SimdTier.Avx512)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (int j = 0; j < full; j += 16)
            {
                Vector512<float> x = Vector512.Load(row + j);
                acc = Vector512.FusedMultiplyAdd(x, x, acc);
            }
            if (rest > 0)
            {
                Vector512<float> x = Vector512.Load(tail);
                acc = Vector512.FusedMultiplyAdd(x, x, acc);
            }
            Vector256<float> q = acc.GetLower() + acc.GetUpper();
            r = q.GetLower() + q.GetUpper();
        }
        else if (tier == SimdTier.Avx2)
        {
            Vector256<float> lo = Vector256<float>.Zero, hi = lo;
            for (int j = 0; j < full; j += 16)
            {
                Vector256<float> a = Vector256.Load(row + j), b = Vector256.Load(row + j + 8);
                lo = Vector256.FusedMultiplyAdd(a, a, lo);
                hi = Vector256.FusedMultiplyAdd(b, b, hi);
            }
            if (rest > 0)
            {
                Vector256<float> a = Vector256.Load(tail), b = Vector256.Load(tail + 8);
                lo = Vector256.FusedMultiplyAdd(a, a, lo);
                hi = Vector256.FusedMultiplyAdd(b, b, hi);
            }
            Vector256<float> q = lo + hi;
            r = q.GetLower() + q.GetUpper();
        }
        else
        {
            float* p = stackalloc float[16];
            for (int l = 0; l < 16; l++)
            {
                p[l] = 0f;
            }
            for (int j = 0; j < width; j++)
            {
                p[j & 15] = MathF.FusedMultiplyAdd(row[j], row[j], p[j & 15]);
            }
            float q0 = p[0] + p[8], q1 = p[1] + p[9], q2 = p[2] + p[10], q3 = p[3] + p[11];
            float q4 = p[4] + p[12], q5 = p[5] + p[13], q6 = p[6] + p[14], q7 = p[7] + p[15];
            return ((q0 + q4) + (q2 + q6)) + ((q1 + q5) + (q3 + q7));
        }
        return (r.GetElement(0) + r.GetElement(2)) + (r.GetElement(1) + r.GetElement(3));
    }
}
