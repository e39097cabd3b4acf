// The float64 reference of one EmbeddingUpdate step (kernels.md, EmbeddingUpdate), written as plainly
// as the formula and sharing no code with the kernels, plus a first-order forward-error bound
// for every float32 output, so tests and `stair-kernels validate` can say how close is close.
namespace Stair.Kernels.Validation;

/// <summary>The expected outputs of one step and the largest float32 error each may carry.</summary>
/// <param name="Table">E after the step.</param>
/// <param name="M">m after the step.</param>
/// <param name="V">v after the step.</param>
/// <param name="TableBound">Allowed |E_float32 − E| per element.</param>
/// <param name="MBound">Allowed |m_float32 − m| per element.</param>
/// <param name="VBound">Allowed |v_float32 − v| per element.</param>
/// <param name="ClippedRows">Rows the clip changed.</param>
public sealed record AdamReferenceStep(double[] Table, double[] M, double[] V, double[] TableBound, double[] MBound, double[] VBound, long ClippedRows)
{
    /// <summary>The largest error of a float32 result relative to its bound (≤ 1 passes; NaN or a missed exact element gives +∞).</summary>
    public double MaxScaledError(ReadOnlySpan<float> table, ReadOnlySpan<float> m, ReadOnlySpan<float> v)
        => Math.Max(Float64Reference.MaxScaledError(Table, TableBound, table),
            Math.Max(Float64Reference.MaxScaledError(M, MBound, m), Float64Reference.MaxScaledError(V, VBound, v)));
}

/// <summary>Float64 reference of the AdamW / Adam step with optional BSC smoothing and clipping.</summary>
public static class EmbeddingUpdateReference
{
    private const double U = Float64Reference.UnitRoundoff;

    /// <summary>
    /// One step from the given float32 state: t = <paramref name="stepBefore"/> + 1; g' = g + wd·E (Adam only);
    /// m' = β1 m + (1−β1) g'; v' = β2 v + (1−β2) g'²; Δ = (m'/(1−β1ᵗ)) / (√v'/√(1−β2ᵗ) + ε);
    /// Δ̃ = Σ_l c_{l,j} (S̃ˡ Δ)[:, j] with strengths b (when <paramref name="graph"/> is given); clip;
    /// E' = E·(1 − lr·wd) − lr·Δ̃ (AdamW) or E − lr·Δ̃ (Adam).
    /// </summary>
    public static AdamReferenceStep Step(ReadOnlySpan<float> table, ReadOnlySpan<float> gradient, ReadOnlySpan<float> m, ReadOnlySpan<float> v,
        long stepBefore, int width, AdamWOptions options, CsrMatrix? graph = null, ReadOnlySpan<float> strengths = default, int layers = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        int n = table.Length;
        int rows = n / width;
        long t = stepBefore + 1;
        double lr = options.LearningRate, b1 = options.Beta1, b2 = options.Beta2, eps = options.Epsilon, wd = options.WeightDecay;
        double correction1 = 1 - Math.Pow(b1, t), correction2 = Math.Sqrt(1 - Math.Pow(b2, t));

        var mNew = new double[n];
        var vNew = new double[n];
        var mBound = new double[n];
        var vBound = new double[n];
        var delta = new double[n];
        var deltaAbs = new double[n];
        var deltaBound = new double[n];
        for (int k = 0; k < n; k++)
        {
            double g = gradient[k] + (options.Decoupled ? 0 : wd * table[k]);
            // g' = g + wd·E is rounded with the product (GPU) or once (CPU fma): within 2u of |g| + |wd·E|.
            double gScale = Math.Abs(gradient[k]) + (options.Decoupled ? 0 : Math.Abs(wd * table[k]));
            mNew[k] = b1 * m[k] + (1 - b1) * g;
            vNew[k] = b2 * v[k] + (1 - b2) * g * g;
            double denominator = Math.Sqrt(vNew[k]) / correction2 + eps;
            delta[k] = mNew[k] / correction1 / denominator;
            deltaAbs[k] = Math.Abs(delta[k]);
            // m: a product, a multiply-add and the rounded g' (and 1 − β1): ≤ 6u of the absolute terms.
            // v: terms ≥ 0 (≤ 6u relative) plus the error g' carries into g'². Δ: the error of m through
            // c1/den, plus ≤ 12u relative (√, two products, an add, the division) grown by v's relative error.
            double mScale = Math.Abs(b1 * m[k]) + (1 - b1) * gScale;
            double vScale = vNew[k] + (1 - b2) * gScale * gScale;
            mBound[k] = 6 * U * mScale;
            vBound[k] = 6 * U * vScale;
            double vGrowth = vScale == vNew[k] ? 1 : (vNew[k] > 0 ? vScale / vNew[k] : double.PositiveInfinity);
            // Δ = 0 exactly (m' = 0) carries no relative error from v: the term is 0, not 0·∞ = NaN (g' = g + wd·E
            // cancelling to 0 with v = 0 gives v' = 0 below a positive scale, an infinite growth).
            // When v' = 0 sits below a positive scale (vGrowth = ∞) the relative form is useless; the absolute one is
            // finite: an error δ in v' moves √v' by at most √δ, so Δ moves by at most |Δ|·√(v's bound)/c2/den.
            double vTerm = deltaAbs[k] == 0 ? 0
                : double.IsFinite(vGrowth) ? 12 * U * deltaAbs[k] * vGrowth
                : deltaAbs[k] * Math.Sqrt(vBound[k]) / correction2 / denominator;
            deltaBound[k] = 12 * U * mScale / correction1 / denominator + vTerm;
        }

        double[] smoothed = delta, smoothedBound = deltaBound;
        if (graph is not null && layers > 0)
        {
            smoothed = Float64Reference.Fsc(graph, delta, width, layers, strengths);
            // Error carried in (filtered by |S̃|) plus the filter's own rounding on |Δ|.
            double[] carried = Float64Reference.Fsc(graph, deltaBound, width, layers, strengths, absolute: true);
            double[] scale = Float64Reference.Fsc(graph, deltaAbs, width, layers, strengths, absolute: true);
            double own = Float64Reference.FscTolerance(MaxRowLength(graph), layers);
            smoothedBound = new double[n];
            for (int k = 0; k < n; k++)
            {
                smoothedBound[k] = carried[k] + own * scale[k];
            }
        }

        var clipped = (double[])smoothed.Clone();
        var clippedBound = (double[])smoothedBound.Clone();
        long clippedRows = 0;
        double threshold = options.Clip.Threshold;
        for (int r = 0; r < rows; r++)
        {
            int start = r * width;
            if (options.Clip.Mode == ClipMode.Element)
            {
                bool any = false;
                for (int j = start; j < start + width; j++)
                {
                    if (Math.Abs(clipped[j]) > threshold)
                    {
                        clipped[j] = Math.CopySign(threshold, clipped[j]);
                        any = true;
                    }
                }
                clippedRows += any ? 1 : 0;
            }
            else if (options.Clip.Mode == ClipMode.RowNorm)
            {
                double sum = 0, errorSum = 0;
                for (int j = start; j < start + width; j++)
                {
                    sum += clipped[j] * clipped[j];
                    errorSum += smoothedBound[j] * smoothedBound[j];
                }
                double norm = Math.Sqrt(sum);
                if (norm > threshold)
                {
                    clippedRows++;
                    double s = threshold / norm;
                    // The kernel's norm (a float sum of squares) and scale are within (d + 10)u, its target
                    // is lowered by (d + 8)u, and the error already in Δ̃ moves the norm by ‖err‖.
                    double relative = (2.0 * width + 20) * U + Math.Sqrt(errorSum) / norm;
                    for (int j = start; j < start + width; j++)
                    {
                        clipped[j] *= s;
                        clippedBound[j] = s * smoothedBound[j] + Math.Abs(clipped[j]) * relative;
                    }
                }
            }
        }

        var tableNew = new double[n];
        var tableBound = new double[n];
        double decay = options.Decoupled ? 1 - lr * wd : 1;
        for (int k = 0; k < n; k++)
        {
            tableNew[k] = table[k] * decay - lr * clipped[k];
            // A product and an fma (2u of the terms), the rounded decay factor (u of E), lr × the update's error.
            tableBound[k] = 2 * U * (Math.Abs(table[k] * decay) + lr * Math.Abs(clipped[k])) + U * Math.Abs(table[k]) + lr * clippedBound[k];
        }

        for (int k = 0; k < n; k++)
        {
            // 2× slack on every first-order bound (second-order terms, and the rounding of lr itself).
            tableBound[k] *= 2;
            mBound[k] *= 2;
            vBound[k] *= 2;
        }
        return new AdamReferenceStep(tableNew, mNew, vNew, tableBound, mBound, vBound, clippedRows);
    }

    private static int MaxRowLength(CsrMatrix a)
    {
        int max = 0;
        for (int r = 0; r < a.Rows; r++)
        {
            max = Math.Max(max, a.RowLength(r));
        }
        return max;
    }
}
