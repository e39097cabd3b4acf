// The one way the CPU kernels write a SIMD loop: a kernel body is written once, generic over
// a vector type of float lanes (IFloatVector: 1, 4, 8 or 16 lanes) and one of double lanes
// (IDoubleVector: 1, 4 or 8 lanes), and SimdDispatch picks the pair of a SimdTier. The JIT
// specializes the body per width (TVec.Count is a constant there, so a test on it costs
// nothing). Every operation is a single correctly rounded IEEE operation (fma, +, −, ×, ÷, √,
// min, max, conversions), the same at every width, so a body that gives each output element
// one fixed chain of operations produces the same bits on every tier.
//
// Inside a body, a wider tier may finish a row with narrower vectors (Float256, Float128 after
// Float512); a narrower tier never touches a wider type. SimdDispatch records which tier's code
// ran (SimdDispatch.Executed), so tests can check that a forced tier runs only its own code.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stair.Kernels.Cpu.Simd;

/// <summary>A vector of <see cref="Count"/> float lanes.</summary>
internal unsafe interface IFloatVector<TSelf>
    where TSelf : struct, IFloatVector<TSelf>
{
    static abstract int Count { get; }

    /// <summary>The tier whose instructions this width uses (its widest user for the 128-bit tail type).</summary>
    static abstract SimdTier Tier { get; }

    static abstract TSelf Zero { get; }

    static abstract TSelf Load(float* p);

    static abstract void Store(TSelf x, float* p);

    static abstract TSelf Splat(float x);

    /// <summary>a·b + c with one rounding.</summary>
    static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);

    /// <summary>
    /// acc = fma(Load(p), b, acc): the step of a gather-accumulate loop. Written through the lane
    /// field of <paramref name="acc"/> so the JIT keeps acc in its register and folds the load into
    /// the FMA; acc = Fma(Load(p), b, acc) costs a load, an FMA and a register copy per step
    /// (the wrapper is returned through a temporary), which slowed FSC by 10–20 %.
    /// </summary>
    static abstract void FmaLoad(ref TSelf acc, float* p, TSelf b);

    static abstract TSelf Add(TSelf a, TSelf b);

    static abstract TSelf Sub(TSelf a, TSelf b);

    static abstract TSelf Mul(TSelf a, TSelf b);

    static abstract TSelf Div(TSelf a, TSelf b);

    static abstract TSelf Sqrt(TSelf a);

    static abstract TSelf Clamp(TSelf a, TSelf lo, TSelf hi);

    /// <summary>Each lane (float)((double)x / divisor): one correctly rounded division, one rounding to float.</summary>
    static abstract TSelf DivideInDouble(TSelf x, double divisor);

    /// <summary>Bit l set when lane l of a is ≥ lane l of b (false for NaN).</summary>
    static abstract ulong GreaterOrEqualMask(TSelf a, TSelf b);

    /// <summary>Bit l set when lane l of a is &gt; lane l of b (false for NaN).</summary>
    static abstract ulong GreaterThanMask(TSelf a, TSelf b);

    /// <summary>The bitwise OR of the lanes' bit patterns.</summary>
    static abstract TSelf OrBits(TSelf a, TSelf b);

    /// <summary>True when every lane's bit pattern is ±0 (no magnitude bit set).</summary>
    static abstract bool AllSignedZero(TSelf a);

    /// <summary>True when any lane is NaN or ±∞ (x − x is then NaN, else 0).</summary>
    static abstract bool AnyNonFinite(TSelf a);

    /// <summary>True when any lane of a differs from b (for finite lanes).</summary>
    static abstract bool AnyDifferent(TSelf a, TSelf b);

    /// <summary>to[k·ldt + j] = from[j·ldf + k] for an 8 × 8 block (a copy: the same bits at every width).</summary>
    static abstract void Transpose8x8(float* from, int ldf, float* to, int ldt);
}

/// <summary>A vector of <see cref="Count"/> double lanes.</summary>
internal unsafe interface IDoubleVector<TSelf>
    where TSelf : struct, IDoubleVector<TSelf>
{
    static abstract int Count { get; }

    static abstract SimdTier Tier { get; }

    static abstract TSelf Zero { get; }

    static abstract TSelf Load(double* p);

    static abstract void Store(TSelf x, double* p);

    static abstract TSelf Splat(double x);

    /// <summary>Count floats at p, each converted (exactly) to double.</summary>
    static abstract TSelf LoadWidened(float* p);

    /// <summary>2·Count floats at p converted to double: the first Count in lo, the next in hi.</summary>
    static abstract void LoadWidenedPair(float* p, out TSelf lo, out TSelf hi);

    /// <summary>Each of the eight floats a[0..8) converted to double and broadcast to every lane.</summary>
    static abstract void Broadcast8(float* a, out TSelf x0, out TSelf x1, out TSelf x2, out TSelf x3, out TSelf x4, out TSelf x5, out TSelf x6, out TSelf x7);

    static abstract TSelf Add(TSelf a, TSelf b);

    static abstract TSelf Sub(TSelf a, TSelf b);

    static abstract TSelf Mul(TSelf a, TSelf b);

    /// <summary>a·b + c with one rounding.</summary>
    static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);

    static abstract TSelf Div(TSelf a, TSelf b);

    static abstract TSelf Abs(TSelf a);

    /// <summary>Per lane: a &lt; b ? ifLess : otherwise (false for NaN).</summary>
    static abstract TSelf SelectLess(TSelf a, TSelf b, TSelf ifLess, TSelf otherwise);

    /// <summary>The sum of the lanes, in the order of the runtime's Vector*.Sum for this width.</summary>
    static abstract double Sum(TSelf a);
}

internal unsafe struct Float1(float x) : IFloatVector<Float1>
{
    // Not readonly: FmaLoad writes the lanes in place (see IFloatVector.FmaLoad).
    public float X = x;

    public static int Count => 1;

    public static SimdTier Tier => SimdTier.Scalar;

    public static Float1 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Load(float* p) => new(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Float1 x, float* p) => *p = x.X;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Splat(float x) => new(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Fma(Float1 a, Float1 b, Float1 c) => new(MathF.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void FmaLoad(ref Float1 acc, float* p, Float1 b) => acc.X = MathF.FusedMultiplyAdd(*p, b.X, acc.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Add(Float1 a, Float1 b) => new(a.X + b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Sub(Float1 a, Float1 b) => new(a.X - b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Mul(Float1 a, Float1 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Div(Float1 a, Float1 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Sqrt(Float1 a) => new(MathF.Sqrt(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 Clamp(Float1 a, Float1 lo, Float1 hi) => new(MathF.Min(MathF.Max(a.X, lo.X), hi.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float1 DivideInDouble(Float1 x, double divisor) => new((float)(x.X / divisor));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterOrEqualMask(Float1 a, Float1 b) => a.X >= b.X ? 1UL : 0UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanMask(Float1 a, Float1 b) => a.X > b.X ? 1UL : 0UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 OrBits(Float1 a, Float1 b) => new(BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(a.X) | BitConverter.SingleToUInt32Bits(b.X)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllSignedZero(Float1 a) => (BitConverter.SingleToUInt32Bits(a.X) & 0x7FFF_FFFFu) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNonFinite(Float1 a) => !float.IsFinite(a.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyDifferent(Float1 a, Float1 b) => a.X != b.X;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* from, int ldf, float* to, int ldt) => SimdTranspose.Scalar8x8(from, ldf, to, ldt);
}

internal unsafe struct Float128(Vector128<float> x) : IFloatVector<Float128>
{
    // Not readonly: FmaLoad writes the lanes in place (see IFloatVector.FmaLoad).
    public Vector128<float> X = x;

    public static int Count => 4;

    public static SimdTier Tier => SimdTier.Avx2;

    public static Float128 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Load(float* p) => new(Vector128.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Float128 x, float* p) => x.X.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Splat(float x) => new(Vector128.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Fma(Float128 a, Float128 b, Float128 c) => new(Vector128.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void FmaLoad(ref Float128 acc, float* p, Float128 b) => acc.X = Vector128.FusedMultiplyAdd(Vector128.Load(p), b.X, acc.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Add(Float128 a, Float128 b) => new(a.X + b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Sub(Float128 a, Float128 b) => new(a.X - b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Mul(Float128 a, Float128 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Div(Float128 a, Float128 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Sqrt(Float128 a) => new(Vector128.Sqrt(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 Clamp(Float128 a, Float128 lo, Float128 hi) => new(Vector128.Min(Vector128.Max(a.X, lo.X), hi.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 DivideInDouble(Float128 x, double divisor)
    {
        (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x.X);
        Vector128<double> d = Vector128.Create(divisor);
        return new(Vector128.Narrow(lo / d, hi / d));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterOrEqualMask(Float128 a, Float128 b) => Vector128.GreaterThanOrEqual(a.X, b.X).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanMask(Float128 a, Float128 b) => Vector128.GreaterThan(a.X, b.X).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float128 OrBits(Float128 a, Float128 b) => new(a.X | b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllSignedZero(Float128 a) => (a.X.AsUInt32() & Vector128.Create(0x7FFF_FFFFu)) == Vector128<uint>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNonFinite(Float128 a) => !Vector128.EqualsAll(a.X - a.X, Vector128<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyDifferent(Float128 a, Float128 b) => !Vector128.EqualsAll(a.X, b.X);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* from, int ldf, float* to, int ldt) => SimdTranspose.Scalar8x8(from, ldf, to, ldt);
}

internal unsafe struct Float256(Vector256<float> x) : IFloatVector<Float256>
{
    // Not readonly: FmaLoad writes the lanes in place (see IFloatVector.FmaLoad).
    public Vector256<float> X = x;

    public static int Count => 8;

    public static SimdTier Tier => SimdTier.Avx2;

    public static Float256 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Load(float* p) => new(Vector256.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Float256 x, float* p) => x.X.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Splat(float x) => new(Vector256.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Fma(Float256 a, Float256 b, Float256 c) => new(Vector256.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void FmaLoad(ref Float256 acc, float* p, Float256 b) => acc.X = Vector256.FusedMultiplyAdd(Vector256.Load(p), b.X, acc.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Add(Float256 a, Float256 b) => new(a.X + b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Sub(Float256 a, Float256 b) => new(a.X - b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Mul(Float256 a, Float256 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Div(Float256 a, Float256 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Sqrt(Float256 a) => new(Vector256.Sqrt(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 Clamp(Float256 a, Float256 lo, Float256 hi) => new(Vector256.Min(Vector256.Max(a.X, lo.X), hi.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 DivideInDouble(Float256 x, double divisor)
    {
        (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x.X);
        Vector256<double> d = Vector256.Create(divisor);
        return new(Vector256.Narrow(lo / d, hi / d));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterOrEqualMask(Float256 a, Float256 b) => Vector256.GreaterThanOrEqual(a.X, b.X).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanMask(Float256 a, Float256 b) => Vector256.GreaterThan(a.X, b.X).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float256 OrBits(Float256 a, Float256 b) => new(a.X | b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllSignedZero(Float256 a) => (a.X.AsUInt32() & Vector256.Create(0x7FFF_FFFFu)) == Vector256<uint>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNonFinite(Float256 a) => !Vector256.EqualsAll(a.X - a.X, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyDifferent(Float256 a, Float256 b) => !Vector256.EqualsAll(a.X, b.X);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* from, int ldf, float* to, int ldt) => SimdTranspose.Avx8x8(from, ldf, to, ldt);
}

internal unsafe struct Float512(Vector512<float> x) : IFloatVector<Float512>
{
    // Not readonly: FmaLoad writes the lanes in place (see IFloatVector.FmaLoad).
    public Vector512<float> X = x;

    public static int Count => 16;

    public static SimdTier Tier => SimdTier.Avx512;

    public static Float512 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Load(float* p) => new(Vector512.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Float512 x, float* p) => x.X.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Splat(float x) => new(Vector512.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Fma(Float512 a, Float512 b, Float512 c) => new(Vector512.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void FmaLoad(ref Float512 acc, float* p, Float512 b) => acc.X = Vector512.FusedMultiplyAdd(Vector512.Load(p), b.X, acc.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Add(Float512 a, Float512 b) => new(a.X + b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Sub(Float512 a, Float512 b) => new(a.X - b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Mul(Float512 a, Float512 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Div(Float512 a, Float512 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Sqrt(Float512 a) => new(Vector512.Sqrt(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 Clamp(Float512 a, Float512 lo, Float512 hi) => new(Vector512.Min(Vector512.Max(a.X, lo.X), hi.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 DivideInDouble(Float512 x, double divisor)
    {
        (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(x.X);
        Vector512<double> d = Vector512.Create(divisor);
        return new(Vector512.Narrow(lo / d, hi / d));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterOrEqualMask(Float512 a, Float512 b) => Vector512.GreaterThanOrEqual(a.X, b.X).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong GreaterThanMask(Float512 a, Float512 b) => Vector512.GreaterThan(a.X, b.X).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Float512 OrBits(Float512 a, Float512 b) => new(a.X | b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllSignedZero(Float512 a) => (a.X.AsUInt32() & Vector512.Create(0x7FFF_FFFFu)) == Vector512<uint>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNonFinite(Float512 a) => !Vector512.EqualsAll(a.X - a.X, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyDifferent(Float512 a, Float512 b) => !Vector512.EqualsAll(a.X, b.X);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* from, int ldf, float* to, int ldt) => SimdTranspose.Avx8x8(from, ldf, to, ldt);
}

internal readonly unsafe struct Double1(double x) : IDoubleVector<Double1>
{
    public readonly double X = x;

    public static int Count => 1;

    public static SimdTier Tier => SimdTier.Scalar;

    public static Double1 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 Load(double* p) => new(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Double1 x, double* p) => *p = x.X;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 Splat(double x) => new(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 LoadWidened(float* p) => new(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWidenedPair(float* p, out Double1 lo, out Double1 hi)
    {
        lo = new(p[0]);
        hi = new(p[1]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast8(float* a, out Double1 x0, out Double1 x1, out Double1 x2, out Double1 x3, out Double1 x4, out Double1 x5, out Double1 x6, out Double1 x7)
    {
        (x0, x1, x2, x3) = (new(a[0]), new(a[1]), new(a[2]), new(a[3]));
        (x4, x5, x6, x7) = (new(a[4]), new(a[5]), new(a[6]), new(a[7]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 Add(Double1 a, Double1 b) => new(a.X + b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 Sub(Double1 a, Double1 b) => new(a.X - b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 Mul(Double1 a, Double1 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 Fma(Double1 a, Double1 b, Double1 c) => new(Math.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Double1 a) => a.X;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 Div(Double1 a, Double1 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 Abs(Double1 a) => new(Math.Abs(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double1 SelectLess(Double1 a, Double1 b, Double1 ifLess, Double1 otherwise) => a.X < b.X ? ifLess : otherwise;
}

internal readonly unsafe struct Double256(Vector256<double> x) : IDoubleVector<Double256>
{
    public readonly Vector256<double> X = x;

    public static int Count => 4;

    public static SimdTier Tier => SimdTier.Avx2;

    public static Double256 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 Load(double* p) => new(Vector256.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Double256 x, double* p) => x.X.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 Splat(double x) => new(Vector256.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 LoadWidened(float* p) => new(Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWidenedPair(float* p, out Double256 lo, out Double256 hi)
    {
        (Vector256<double> l, Vector256<double> h) = Vector256.Widen(Vector256.Load(p));
        lo = new(l);
        hi = new(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast8(float* a, out Double256 x0, out Double256 x1, out Double256 x2, out Double256 x3, out Double256 x4, out Double256 x5, out Double256 x6, out Double256 x7)
    {
        x0 = new(Vector256.Create((double)a[0]));
        x1 = new(Vector256.Create((double)a[1]));
        x2 = new(Vector256.Create((double)a[2]));
        x3 = new(Vector256.Create((double)a[3]));
        x4 = new(Vector256.Create((double)a[4]));
        x5 = new(Vector256.Create((double)a[5]));
        x6 = new(Vector256.Create((double)a[6]));
        x7 = new(Vector256.Create((double)a[7]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 Add(Double256 a, Double256 b) => new(a.X + b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 Sub(Double256 a, Double256 b) => new(a.X - b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 Mul(Double256 a, Double256 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 Fma(Double256 a, Double256 b, Double256 c) => new(Vector256.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Double256 a) => Vector256.Sum(a.X);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 Div(Double256 a, Double256 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double256 Abs(Double256 a) => new(Vector256.Abs(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Double256 SelectLess(Double256 a, Double256 b, Double256 ifLess, Double256 otherwise) => new(Vector256.ConditionalSelect(Vector256.LessThan(a.X, b.X), ifLess.X, otherwise.X));
}

internal readonly unsafe struct Double512(Vector512<double> x) : IDoubleVector<Double512>
{
    public readonly Vector512<double> X = x;

    public static int Count => 8;

    public static SimdTier Tier => SimdTier.Avx512;

    public static Double512 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 Load(double* p) => new(Vector512.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Double512 x, double* p) => x.X.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 Splat(double x) => new(Vector512.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 LoadWidened(float* p) => new(Avx512F.ConvertToVector512Double(Vector256.Load(p)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWidenedPair(float* p, out Double512 lo, out Double512 hi)
    {
        (Vector512<double> l, Vector512<double> h) = Vector512.Widen(Vector512.Load(p));
        lo = new(l);
        hi = new(h);
    }

    /// <summary>One conversion of the eight floats, then one permute per broadcast lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast8(float* a, out Double512 x0, out Double512 x1, out Double512 x2, out Double512 x3, out Double512 x4, out Double512 x5, out Double512 x6, out Double512 x7)
    {
        Vector512<double> v = Avx512F.ConvertToVector512Double(Vector256.Load(a));
        x0 = new(Avx512F.PermuteVar8x64(v, Vector512.Create(0L)));
        x1 = new(Avx512F.PermuteVar8x64(v, Vector512.Create(1L)));
        x2 = new(Avx512F.PermuteVar8x64(v, Vector512.Create(2L)));
        x3 = new(Avx512F.PermuteVar8x64(v, Vector512.Create(3L)));
        x4 = new(Avx512F.PermuteVar8x64(v, Vector512.Create(4L)));
        x5 = new(Avx512F.PermuteVar8x64(v, Vector512.Create(5L)));
        x6 = new(Avx512F.PermuteVar8x64(v, Vector512.Create(6L)));
        x7 = new(Avx512F.PermuteVar8x64(v, Vector512.Create(7L)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 Add(Double512 a, Double512 b) => new(a.X + b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 Sub(Double512 a, Double512 b) => new(a.X - b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 Mul(Double512 a, Double512 b) => new(a.X * b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 Fma(Double512 a, Double512 b, Double512 c) => new(Vector512.FusedMultiplyAdd(a.X, b.X, c.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Double512 a) => Vector512.Sum(a.X);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 Div(Double512 a, Double512 b) => new(a.X / b.X);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Double512 Abs(Double512 a) => new(Vector512.Abs(a.X));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Double512 SelectLess(Double512 a, Double512 b, Double512 ifLess, Double512 otherwise) => new(Vector512.ConditionalSelect(Vector512.LessThan(a.X, b.X), ifLess.X, otherwise.X));
}

/// <summary>A kernel body written once for every tier: <see cref="SimdDispatch.Run"/> calls it with the tier's vector types.</summary>
/// <remarks>
/// A body that loops is marked NoInlining | AggressiveOptimization: compiled fully optimized at
/// once, and never inlined into the dispatcher when that is re-jitted, where it would share the
/// dispatcher's inlining budget and lose its own inlinees (KernelBodyCompilationTests).
/// </remarks>
internal interface ISimdKernel
{
    void Run<TFloat, TDouble>()
        where TFloat : struct, IFloatVector<TFloat>
        where TDouble : struct, IDoubleVector<TDouble>;
}

/// <summary>A parallel job whose parts are kernel bodies written once for every tier (see <see cref="SimdDispatch.RunPart"/>).</summary>
internal interface ISimdParts
{
    void ExecutePart<TFloat, TDouble>(int part)
        where TFloat : struct, IFloatVector<TFloat>
        where TDouble : struct, IDoubleVector<TDouble>;
}

/// <summary>The single place a <see cref="SimdTier"/> becomes code, and the record of which tiers' code ran.</summary>
internal static class SimdDispatch
{
    private static int s_executed;

    /// <summary>Runs <paramref name="kernel"/> with the vector types of <paramref name="tier"/> (a resolved tier).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TKernel>(SimdTier tier, ref TKernel kernel)
        where TKernel : struct, ISimdKernel, allows ref struct
    {
        switch (tier)
        {
            case SimdTier.Avx512:
                Invoke<TKernel, Float512, Double512>(ref kernel);
                break;
            case SimdTier.Avx2:
                Invoke<TKernel, Float256, Double256>(ref kernel);
                break;
            case SimdTier.Scalar:
                Invoke<TKernel, Float1, Double1>(ref kernel);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(tier), tier, "Pass a resolved SIMD tier (not Auto).");
        }
    }

    /// <summary>Runs part <paramref name="part"/> of <paramref name="job"/> with the vector types of <paramref name="tier"/>.</summary>
    public static void RunPart<TJob>(SimdTier tier, TJob job, int part)
        where TJob : class, ISimdParts
    {
        var kernel = new PartKernel<TJob>(job, part);
        Run(tier, ref kernel);
    }

    private readonly struct PartKernel<TJob>(TJob job, int part) : ISimdKernel
        where TJob : class, ISimdParts
    {
        public void Run<TFloat, TDouble>()
            where TFloat : struct, IFloatVector<TFloat>
            where TDouble : struct, IDoubleVector<TDouble>
            => job.ExecutePart<TFloat, TDouble>(part);
    }

    // The record names the tier of the vector types that actually run, not the tier asked for.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Invoke<TKernel, TFloat, TDouble>(ref TKernel kernel)
        where TKernel : struct, ISimdKernel, allows ref struct
        where TFloat : struct, IFloatVector<TFloat>
        where TDouble : struct, IDoubleVector<TDouble>
    {
        Record(TFloat.Tier);
        kernel.Run<TFloat, TDouble>();
    }

    /// <summary>
    /// Notes that the code of <paramref name="tier"/> is running: one call per kernel dispatch (a body's entry,
    /// not per element). It writes only the first time a tier is seen since the last <see cref="TakeExecuted"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Record(SimdTier tier)
    {
        int bit = 1 << (int)tier;
        if ((Volatile.Read(ref s_executed) & bit) == 0)
        {
            Interlocked.Or(ref s_executed, bit);
        }
    }

    /// <summary>The tiers whose code ran since the last call (bit 1 &lt;&lt; (int)tier), and clears the record. Process-wide.</summary>
    internal static int TakeExecuted() => Interlocked.Exchange(ref s_executed, 0);
}

/// <summary>Sixteen float partial sums and their fixed reduction tree, shared by every tier.</summary>
internal static unsafe class FloatLanes16
{
    /// <summary>
    /// The tree l += l + 8, l += l + 4, then (0 + 2) + (1 + 3) over sixteen lanes held in registers:
    /// a0 alone for a 16-lane vector, a0 (lanes 0–7) and a1 (lanes 8–15) for an 8-lane one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tree<TVec>(TVec a0, TVec a1)
        where TVec : struct, IFloatVector<TVec>
    {
        Vector256<float> q;
        if (TVec.Count == 16)
        {
            Vector512<float> v = Unsafe.As<TVec, Vector512<float>>(ref a0);
            q = v.GetLower() + v.GetUpper();
        }
        else if (TVec.Count == 8)
        {
            q = Unsafe.As<TVec, Vector256<float>>(ref a0) + Unsafe.As<TVec, Vector256<float>>(ref a1);
        }
        else
        {
            throw new NotSupportedException("Tree over registers needs 8- or 16-lane vectors.");
        }
        Vector128<float> r = q.GetLower() + q.GetUpper();
        return (r.GetElement(0) + r.GetElement(2)) + (r.GetElement(1) + r.GetElement(3));
    }

    /// <summary>The same tree over sixteen lanes in memory (overwrites them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tree(float* lanes)
    {
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

/// <summary>The 8 × 8 float transposes behind <see cref="IFloatVector{TSelf}.Transpose8x8"/>.</summary>
internal static unsafe class SimdTranspose
{
    public static void Scalar8x8(float* from, int ldf, float* to, int ldt)
    {
        for (int j = 0; j < 8; j++)
        {
            for (int k = 0; k < 8; k++)
            {
                to[k * (long)ldt + j] = from[j * (long)ldf + k];
            }
        }
    }

    // The classic unpack / shuffle / 128-bit permute sequence on eight 256-bit rows (AVX, in both vector tiers).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Avx8x8(float* from, int ldf, float* to, int ldt)
    {
        Vector256<float> r0 = Avx.LoadVector256(from), r1 = Avx.LoadVector256(from + ldf), r2 = Avx.LoadVector256(from + 2L * ldf),
            r3 = Avx.LoadVector256(from + 3L * ldf), r4 = Avx.LoadVector256(from + 4L * ldf), r5 = Avx.LoadVector256(from + 5L * ldf),
            r6 = Avx.LoadVector256(from + 6L * ldf), r7 = Avx.LoadVector256(from + 7L * ldf);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3),
            t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE),
            u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(to, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(to + ldt, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(to + 2L * ldt, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(to + 3L * ldt, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(to + 4L * ldt, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(to + 5L * ldt, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(to + 6L * ldt, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(to + 7L * ldt, Avx.Permute2x128(u3, u7, 0x31));
    }
}
