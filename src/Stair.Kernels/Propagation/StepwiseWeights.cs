// The per-dimension strengths of kernels.md, Propagation: b_j = 0.1 + 0.9·(j/d)^γ, with
// FSC using β_j = 1 − b_j and BSC using b_j. Computed in float64, rounded once.
namespace Stair.Kernels;

/// <summary>Per-dimension propagation strengths for forward (FSC) and backward (BSC) stepwise convolution.</summary>
public static class StepwiseWeights
{
    /// <summary>
    /// b_j = 0.1 + 0.9·(j/d)^γ for j = 0 … d−1 (BSC's strengths: 0.1 at j = 0, rising toward 1).
    /// With γ = 0 every b_j is 1 (since (j/d)⁰ = 1, including 0⁰).
    /// </summary>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="gamma">Shape γ (finite, ≥ 0).</param>
    public static float[] Backward(int width, double gamma)
    {
        Validate(width, gamma);
        var b = new float[width];
        for (int j = 0; j < width; j++)
        {
            b[j] = (float)B(j, width, gamma);
        }
        return b;
    }

    /// <summary>
    /// β_j = 1 − b_j (FSC's strengths: 0.9 at j = 0, falling toward 0), with b_j as in <see cref="Backward"/>.
    /// </summary>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="gamma">Shape γ (finite, ≥ 0).</param>
    public static float[] Forward(int width, double gamma)
    {
        Validate(width, gamma);
        var beta = new float[width];
        for (int j = 0; j < width; j++)
        {
            beta[j] = (float)(1.0 - B(j, width, gamma));
        }
        return beta;
    }

    /// <summary>The final scale of every dimension, c_j = 1 / Σ_{l=0..L} β_jˡ, rounded to float (what every FSC path multiplies by).</summary>
    internal static void FinalScale(ReadOnlySpan<float> beta, int layers, Span<float> scale)
    {
        for (int j = 0; j < beta.Length; j++)
        {
            scale[j] = (float)LayerWeight(beta[j], 0, layers);
        }
    }

    /// <summary>
    /// The weight of layer <paramref name="layer"/> in the stepwise sum for strength β:
    /// c_l = (1−β) βˡ / (1−β^{L+1}) = βˡ / Σ_{i=0..L} βⁱ (the second form has no 0/0 at β = 1).
    /// </summary>
    public static double LayerWeight(double beta, int layer, int layers)
    {
        double sum = 0, power = 1;
        for (int i = 0; i <= layers; i++)
        {
            sum += power;
            power *= beta;
        }
        return Math.Pow(beta, layer) / sum;
    }

    private static double B(int j, int width, double gamma) => 0.1 + 0.9 * Math.Pow((double)j / width, gamma);

    private static void Validate(int width, double gamma)
    {
        if (width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "Embedding width must be at least 1.");
        }
        if (!double.IsFinite(gamma) || gamma < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be finite and non-negative.");
        }
    }
}
