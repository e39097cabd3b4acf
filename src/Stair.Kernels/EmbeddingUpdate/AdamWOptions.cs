// The public vocabulary of the EmbeddingUpdate family (kernels.md, EmbeddingUpdate): the optimizer's
// hyperparameters, the clip, what a step does with a non-finite gradient, and what it reports.
// Options are plain records; every entry point validates them once, before anything is written.
namespace Stair.Kernels;

/// <summary>Which clip, if any, bounds the (smoothed) update before it is applied.</summary>
public enum ClipMode
{
    /// <summary>No clipping (the default; the paper has none).</summary>
    None = 0,

    /// <summary>Each row's update is scaled down so its Euclidean norm is at most τ.</summary>
    RowNorm = 1,

    /// <summary>Each element of the update is clamped to [−c, c].</summary>
    Element = 2,
}

/// <summary>A clip of the update Δ̃ (after BSC smoothing, before E ← E − lr·Δ̃).</summary>
/// <param name="Mode">What is clipped.</param>
/// <param name="Threshold">τ for <see cref="ClipMode.RowNorm"/>, c for <see cref="ClipMode.Element"/> (finite, &gt; 0); ignored for <see cref="ClipMode.None"/>.</param>
public readonly record struct UpdateClip(ClipMode Mode, float Threshold)
{
    /// <summary>No clipping.</summary>
    public static UpdateClip None => default;

    /// <summary>Caps each row's update norm at <paramref name="tau"/>.</summary>
    public static UpdateClip RowNorm(float tau) => new(ClipMode.RowNorm, tau);

    /// <summary>Clamps each update element to [−<paramref name="c"/>, <paramref name="c"/>].</summary>
    public static UpdateClip Element(float c) => new(ClipMode.Element, c);
}

/// <summary>What a step does when the gradient holds a NaN or an infinity.</summary>
public enum NonFinitePolicy
{
    /// <summary>Skip the step: table and optimizer state (moments and step count) stay untouched; the result reports it.</summary>
    Skip = 0,

    /// <summary>Leave everything untouched and throw an <see cref="ArgumentException"/> naming the first bad row and element.</summary>
    Throw = 1,
}

/// <summary>
/// Hyperparameters of one AdamW (or Adam) step on an embedding table.
/// </summary>
/// <param name="LearningRate">lr (finite, &gt; 0).</param>
/// <param name="Beta1">β1, the first-moment decay (finite, in [0, 1)).</param>
/// <param name="Beta2">β2, the second-moment decay (finite, in [0, 1)).</param>
/// <param name="Epsilon">ε added to the denominator (finite, &gt; 0).</param>
/// <param name="WeightDecay">wd (finite, ≥ 0, and lr·wd ≤ 1 when decoupled).</param>
/// <param name="Decoupled">True: AdamW, E ← E·(1 − lr·wd) before the update. False: plain Adam with L2 decay folded into the gradient, g ← g + wd·E.</param>
/// <param name="Clip">Optional clip of the update after smoothing (<see cref="UpdateClip.None"/> by default).</param>
/// <param name="NonFinite">What a NaN or infinity in the gradient does (skip the step by default).</param>
public sealed record AdamWOptions(
    float LearningRate,
    float Beta1 = 0.9f,
    float Beta2 = 0.999f,
    float Epsilon = 1e-8f,
    float WeightDecay = 0f,
    bool Decoupled = true,
    UpdateClip Clip = default,
    NonFinitePolicy NonFinite = NonFinitePolicy.Skip)
{
    /// <summary>Throws <see cref="ArgumentException"/> (parameter <paramref name="paramName"/>) naming the first bad hyperparameter.</summary>
    internal void Validate(string paramName)
    {
        static bool Finite(float x) => float.IsFinite(x);
        if (!Finite(LearningRate) || LearningRate <= 0f)
        {
            throw new ArgumentException($"LearningRate is {LearningRate}; it must be finite and > 0.", paramName);
        }
        if (!Finite(Beta1) || Beta1 < 0f || Beta1 >= 1f)
        {
            throw new ArgumentException($"Beta1 is {Beta1}; it must be finite and in [0, 1).", paramName);
        }
        if (!Finite(Beta2) || Beta2 < 0f || Beta2 >= 1f)
        {
            throw new ArgumentException($"Beta2 is {Beta2}; it must be finite and in [0, 1).", paramName);
        }
        if (!Finite(Epsilon) || Epsilon <= 0f)
        {
            throw new ArgumentException($"Epsilon is {Epsilon}; it must be finite and > 0.", paramName);
        }
        if (!Finite(WeightDecay) || WeightDecay < 0f)
        {
            throw new ArgumentException($"WeightDecay is {WeightDecay}; it must be finite and ≥ 0.", paramName);
        }
        if (Decoupled && (double)LearningRate * WeightDecay > 1.0)
        {
            throw new ArgumentException($"LearningRate × WeightDecay is {(double)LearningRate * WeightDecay}; decoupled decay E·(1 − lr·wd) needs it ≤ 1.", paramName);
        }
        if (!Enum.IsDefined(Clip.Mode))
        {
            throw new ArgumentException($"Clip.Mode {Clip.Mode} is not a defined clip mode.", paramName);
        }
        if (Clip.Mode == ClipMode.RowNorm && (!Finite(Clip.Threshold) || Clip.Threshold <= 0f))
        {
            throw new ArgumentException($"The row-norm clip τ is {Clip.Threshold}; it must be finite and > 0.", paramName);
        }
        if (Clip.Mode == ClipMode.Element && (!Finite(Clip.Threshold) || Clip.Threshold <= 0f))
        {
            throw new ArgumentException($"The element clip c is {Clip.Threshold}; it must be finite and > 0.", paramName);
        }
        if (!Enum.IsDefined(NonFinite))
        {
            throw new ArgumentException($"NonFinite {NonFinite} is not a defined policy.", paramName);
        }
    }
}

/// <summary>What one update step did.</summary>
/// <param name="Step">The optimizer step count t after the call (unchanged when the step was skipped).</param>
/// <param name="ClippedRows">Rows whose update the clip changed (0 without a clip or when skipped).</param>
/// <param name="NonFiniteGradients">Gradient elements that were NaN or ±∞ (0 on a normal step).</param>
public readonly record struct UpdateResult(long Step, long ClippedRows, long NonFiniteGradients)
{
    /// <summary>True when the step was skipped because the gradient was not finite: nothing was written.</summary>
    public bool Skipped => NonFiniteGradients > 0;
}
