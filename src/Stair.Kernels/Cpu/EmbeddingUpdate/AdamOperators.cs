// The Adam/AdamW step as operator structs over the generic vectors of Cpu/Simd/SimdVectors.cs: the math
// of kernels.md, EmbeddingUpdate steps 1–3, 5 and 6, each element one fixed sequence of IEEE operations,
// so every tier agrees bit for bit. BSC smoothing (step 4) is the propagation kernel itself.
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.EmbeddingUpdate;

/// <summary>
/// The per-step float32 constants, derived once on the host in float64 and rounded once, so the
/// CPU tiers and the ILGPU kernels see the same numbers.
/// </summary>
internal readonly struct AdamScalars
{
    public readonly float Beta1, OneMinusBeta1, Beta2, OneMinusBeta2;
    /// <summary>1 / (1 − β1ᵗ).</summary>
    public readonly float Bias1;
    /// <summary>1 / √(1 − β2ᵗ).</summary>
    public readonly float Bias2;
    public readonly float Epsilon;
    /// <summary>1 − lr·wd for AdamW, 1 for Adam.</summary>
    public readonly float Decay;
    /// <summary>wd for Adam (folded into the gradient), 0 for AdamW.</summary>
    public readonly float L2;
    public readonly float NegativeLearningRate;
    /// <summary>c for the element clip; τ for the row-norm test.</summary>
    public readonly float ClipThreshold;
    /// <summary>τ·(1 − (d + 8)·2⁻²⁴): the target norm of a clipped row, lowered by the worst rounding of the computed norm and scale, so the stored row never exceeds τ.</summary>
    public readonly float SafeTau;

    public AdamScalars(AdamWOptions o, long step, int width)
    {
        Beta1 = o.Beta1;
        Beta2 = o.Beta2;
        OneMinusBeta1 = (float)(1.0 - o.Beta1);
        OneMinusBeta2 = (float)(1.0 - o.Beta2);
        Bias1 = (float)(1.0 / (1.0 - Math.Pow(o.Beta1, step)));
        Bias2 = (float)(1.0 / Math.Sqrt(1.0 - Math.Pow(o.Beta2, step)));
        Epsilon = o.Epsilon;
        Decay = o.Decoupled ? (float)(1.0 - (double)o.LearningRate * o.WeightDecay) : 1f;
        L2 = o.Decoupled ? 0f : o.WeightDecay;
        NegativeLearningRate = -o.LearningRate;
        ClipThreshold = o.Clip.Threshold;
        SafeTau = (float)(o.Clip.Threshold * (1.0 - (width + 8) * Math.ScaleB(1.0, -24)));
    }
}

/// <summary>Raw pointers of one step's tables (pinned by the caller for the run).</summary>
internal unsafe struct AdamTables
{
    public float* Table;
    public float* Gradient;
    public float* M;
    public float* V;
    /// <summary>Where Δ is written (moments pass) or Δ̃ read (apply pass); may be offset so Delta[i] addresses a row buffer.</summary>
    public float* Delta;
}

internal unsafe static class AdamMath
{
    /// <summary>Steps 2–3 (with Adam's g + wd·E first): updates m and v at i and returns Δ = (m·c1) / (√v·c2 + ε).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Moments<TVec>(in AdamTables t, in AdamScalars s, long i, bool l2)
        where TVec : struct, IFloatVector<TVec>
    {
        TVec g = TVec.Load(t.Gradient + i);
        if (l2)
        {
            g = TVec.Fma(TVec.Splat(s.L2), TVec.Load(t.Table + i), g);
        }
        TVec m = TVec.Fma(TVec.Splat(s.Beta1), TVec.Load(t.M + i), TVec.Mul(TVec.Splat(s.OneMinusBeta1), g));
        TVec v = TVec.Fma(TVec.Splat(s.Beta2), TVec.Load(t.V + i), TVec.Mul(TVec.Mul(TVec.Splat(s.OneMinusBeta2), g), g));
        TVec.Store(m, t.M + i);
        TVec.Store(v, t.V + i);
        TVec denominator = TVec.Fma(TVec.Sqrt(v), TVec.Splat(s.Bias2), TVec.Splat(s.Epsilon));
        return TVec.Div(TVec.Mul(m, TVec.Splat(s.Bias1)), denominator);
    }

    /// <summary>Steps 1 and 6: E ← fma(−lr, Δ̃, E·decay).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply<TVec>(in AdamTables t, in AdamScalars s, long i, TVec delta)
        where TVec : struct, IFloatVector<TVec>
    {
        TVec e = TVec.Load(t.Table + i);
        TVec.Store(TVec.Fma(TVec.Splat(s.NegativeLearningRate), delta, TVec.Mul(e, TVec.Splat(s.Decay))), t.Table + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ClampElement<TVec>(in AdamScalars s, TVec delta)
        where TVec : struct, IFloatVector<TVec>
        => TVec.Clamp(delta, TVec.Splat(-s.ClipThreshold), TVec.Splat(s.ClipThreshold));
}

/// <summary>An on/off option of an operator fixed at compile time (a type argument), so the JIT drops the branches of the variants not taken.</summary>
internal interface ICompileTimeFlag
{
    static abstract bool Value { get; }
}

internal readonly struct Enabled : ICompileTimeFlag
{
    public static bool Value => true;
}

internal readonly struct Disabled : ICompileTimeFlag
{
    public static bool Value => false;
}

/// <summary>The whole step in one pass (no smoothing, no row clip): moments, optional element clamp, apply.</summary>
internal unsafe struct FusedStepOp<TL2, TClamp>(AdamTables tables, AdamScalars scalars) : IClampingOp
    where TL2 : struct, ICompileTimeFlag
    where TClamp : struct, ICompileTimeFlag
{
    private readonly AdamTables _t = tables;
    private readonly AdamScalars _s = scalars;

    /// <summary>Set when the element clamp changed any element since it was last cleared.</summary>
    public bool Clamped { get; set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TVec>(long i)
        where TVec : struct, IFloatVector<TVec>
    {
        TVec delta = AdamMath.Moments<TVec>(_t, _s, i, TL2.Value);
        if (TClamp.Value)
        {
            TVec clamped = AdamMath.ClampElement(_s, delta);
            Clamped |= TVec.AnyDifferent(clamped, delta);
            delta = clamped;
        }
        AdamMath.Apply(_t, _s, i, delta);
    }
}

/// <summary>Moments only: m, v updated, Δ written for smoothing (or for a row clip).</summary>
internal readonly unsafe struct MomentsOp<TL2>(AdamTables tables, AdamScalars scalars) : IElementOp
    where TL2 : struct, ICompileTimeFlag
{
    private readonly AdamTables _t = tables;
    private readonly AdamScalars _s = scalars;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TVec>(long i)
        where TVec : struct, IFloatVector<TVec>
        => TVec.Store(AdamMath.Moments<TVec>(_t, _s, i, TL2.Value), _t.Delta + i);
}

/// <summary>Apply a prepared update Δ̃ (times a row scale when clipped by norm, clamped when clipped by element).</summary>
internal unsafe struct ApplyOp<TScale, TClamp>(AdamTables tables, AdamScalars scalars, float scale) : IClampingOp
    where TScale : struct, ICompileTimeFlag
    where TClamp : struct, ICompileTimeFlag
{
    private readonly AdamTables _t = tables;
    private readonly AdamScalars _s = scalars;
    private readonly float _scale = scale;

    /// <summary>Set when the element clamp changed any element since it was last cleared.</summary>
    public bool Clamped { get; set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TVec>(long i)
        where TVec : struct, IFloatVector<TVec>
    {
        TVec delta = TVec.Load(_t.Delta + i);
        if (TScale.Value)
        {
            delta = TVec.Mul(delta, TVec.Splat(_scale));
        }
        if (TClamp.Value)
        {
            TVec clamped = AdamMath.ClampElement(_s, delta);
            Clamped |= TVec.AnyDifferent(clamped, delta);
            delta = clamped;
        }
        AdamMath.Apply(_t, _s, i, delta);
    }
}
