// Float64 references for the kernels, written as plainly as the formulas in
// kernels.md, Propagation and sharing no code with the kernels. The tests and
// `stair-kernels validate` both measure the kernels against these.
namespace Stair.Kernels.Validation;

/// <summary>Plain float64 implementations of the kernels, for checking results.</summary>
public static class Float64Reference
{
    /// <summary>Unit roundoff of float32 (2⁻²⁴): the relative error of one rounding.</summary>
    public const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>Y = A·X (or Aᵀ·X) in float64; with <paramref name="absolute"/>, |A|·|X| (the scale of rounding errors).</summary>
    /// <param name="a">The sparse matrix.</param>
    /// <param name="x">Dense input, row-major.</param>
    /// <param name="width">Dense width d.</param>
    /// <param name="transpose">Multiply by Aᵀ.</param>
    /// <param name="absolute">Use |A| and |X| instead of A and X.</param>
    public static double[] Spmm(CsrMatrix a, ReadOnlySpan<double> x, int width, bool transpose = false, bool absolute = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        int outRows = transpose ? a.Columns : a.Rows;
        var y = new double[(long)outRows * width];
        for (int r = 0; r < a.Rows; r++)
        {
            // Row by row, so a matrix past 2³¹ entries (no whole-matrix span) is read the same way.
            ReadOnlySpan<int> cols = a.RowColumns(r);
            ReadOnlySpan<float> vals = a.RowValues(r);
            for (int k = 0; k < cols.Length; k++)
            {
                int c = cols[k];
                double v = absolute ? Math.Abs(vals[k]) : vals[k];
                long dst = (long)(transpose ? c : r) * width, src = (long)(transpose ? r : c) * width;
                for (int j = 0; j < width; j++)
                {
                    double xv = x[checked((int)(src + j))];
                    y[dst + j] += v * (absolute ? Math.Abs(xv) : xv);
                }
            }
        }
        return y;
    }

    /// <summary>
    /// FSC: out[:, j] = Σ_{l=0..L} c_{l,j} (Aˡ E)[:, j] with c_{l,j} = (1−β_j) β_jˡ / (1−β_j^{L+1}),
    /// taken as 1/(L+1) at β_j = 1; with <paramref name="transpose"/>, Aᵀ in place of A.
    /// </summary>
    /// <param name="a">The square sparse matrix.</param>
    /// <param name="e">E, row-major N × d.</param>
    /// <param name="width">Width d.</param>
    /// <param name="layers">L.</param>
    /// <param name="beta">β, length d.</param>
    /// <param name="transpose">Use Aᵀ.</param>
    /// <param name="absolute">Use |A| and |E| (the scale of rounding errors).</param>
    public static double[] Fsc(CsrMatrix a, ReadOnlySpan<double> e, int width, int layers, ReadOnlySpan<float> beta, bool transpose = false, bool absolute = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        double[] power = e.ToArray(); // Aˡ E
        if (absolute)
        {
            for (int k = 0; k < power.Length; k++)
            {
                power[k] = Math.Abs(power[k]);
            }
        }
        var output = new double[e.Length];
        int rows = e.Length / width;
        for (int l = 0; l <= layers; l++)
        {
            if (l > 0)
            {
                power = Spmm(a, power, width, transpose, absolute);
            }
            for (int row = 0; row < rows; row++)
            {
                for (int j = 0; j < width; j++)
                {
                    output[(long)row * width + j] += LayerWeight(beta[j], l, layers) * power[(long)row * width + j];
                }
            }
        }
        return output;
    }

    /// <summary>
    /// Top-k neighbours by cosine similarity in float64 (0 for a zero row), self excluded,
    /// best first, ties to the lower index: items × k indices.
    /// </summary>
    public static int[] KnnTopK(ReadOnlySpan<float> features, int items, int columns, int k)
    {
        var norms = new double[items];
        for (int i = 0; i < items; i++)
        {
            double sum = 0;
            for (int c = 0; c < columns; c++)
            {
                sum += (double)features[i * columns + c] * features[i * columns + c];
            }
            norms[i] = Math.Sqrt(sum);
        }
        var result = new int[items * k];
        var scores = new (double Score, int Index)[items - 1];
        for (int i = 0; i < items; i++)
        {
            int n = 0;
            for (int j = 0; j < items; j++)
            {
                if (j == i)
                {
                    continue;
                }
                double dot = 0;
                for (int c = 0; c < columns; c++)
                {
                    dot += (double)features[i * columns + c] * features[j * columns + c];
                }
                scores[n++] = (norms[i] > 0 && norms[j] > 0 ? dot / (norms[i] * norms[j]) : 0, j);
            }
            Array.Sort(scores, (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Index.CompareTo(y.Index));
            for (int r = 0; r < k; r++)
            {
                result[i * k + r] = scores[r].Index;
            }
        }
        return result;
    }

    /// <summary>c_l = (1−β) βˡ / (1−β^{L+1}), or 1/(L+1) at β = 1, straight from the formula.</summary>
    public static double LayerWeight(double beta, int layer, int layers)
    {
        if (beta == 1.0)
        {
            return 1.0 / (layers + 1);
        }
        return (1 - beta) * Math.Pow(beta, layer) / (1 - Math.Pow(beta, layers + 1));
    }

    /// <summary>A float32 table widened to float64.</summary>
    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            d[k] = x[k];
        }
        return d;
    }

    /// <summary>
    /// The largest error of <paramref name="actual"/> relative to the rounding scale:
    /// max_k |actual_k − expected_k| / bound_k (an element whose bound is 0 must match exactly;
    /// a NaN anywhere gives +∞).
    /// </summary>
    public static double MaxScaledError(ReadOnlySpan<double> expected, ReadOnlySpan<double> bound, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length || bound.Length != actual.Length)
        {
            throw new ArgumentException("expected, bound and actual must have the same length.");
        }
        double worst = 0;
        for (int k = 0; k < actual.Length; k++)
        {
            double err = Math.Abs(actual[k] - expected[k]);
            if (double.IsNaN(err))
            {
                return double.PositiveInfinity;
            }
            double scaled = bound[k] > 0 ? err / bound[k] : (err == 0 ? 0 : double.PositiveInfinity);
            worst = Math.Max(worst, scaled);
        }
        return worst;
    }

    /// <summary>
    /// The forward-error bound of a sum of <paramref name="terms"/> products formed by an FMA chain,
    /// relative to the sum of absolute products (Higham, Accuracy and Stability, §3.1), with 2× slack.
    /// </summary>
    public static double SpmmTolerance(int terms) => 2.0 * (terms + 1) * UnitRoundoff;

    /// <summary>The SpMM bound compounded over L products and L + 1 weighted adds.</summary>
    public static double FscTolerance(int maxRowLength, int layers) => (layers + 2) * 2.0 * (maxRowLength + 4) * UnitRoundoff;
    /// <summary>
    /// The dense NT product in float64: C[i·n + j] = Σ_p A[i·lda + p]·B[j·ldb + p] (C = A·Bᵀ, dense m × n), or
    /// with <paramref name="absolute"/> Σ_p |A||B| (the scale of the rounding-error bound).
    /// </summary>
    public static double[] MultiplyTransposed(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, int m, int n, int k, bool absolute = false)
    {
        var c = new double[(long)m * n];
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<float> ai = a.Slice(i * lda, k);
            for (int j = 0; j < n; j++)
            {
                ReadOnlySpan<float> bj = b.Slice(j * ldb, k);
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double t = (double)ai[p] * bj[p];
                    s += absolute ? Math.Abs(t) : t;
                }
                c[(long)i * n + j] = s;
            }
        }
        return c;
    }

    /// <summary>
    /// Tolerance of the dense product relative to Σ|a||b|: each element is one FMA chain of k steps, one
    /// rounding each, so |error| ≤ γ_k·Σ|a||b| with γ_k = k·u/(1 − k·u) (Higham §3.1); the float64 reference
    /// adds at most k·2⁻⁵³ relative, so γ_(k+1) covers both.
    /// </summary>
    public static double DenseProductTolerance(int k) => (k + 1) * UnitRoundoff / (1 - (k + 1) * UnitRoundoff);
}
