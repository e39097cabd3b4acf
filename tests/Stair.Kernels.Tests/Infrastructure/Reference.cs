// Float64 references written as plainly as the formulas in STAIR-KERNELS.md §3.
namespace Stair.Kernels.Tests.Infrastructure;

public static class Reference
{
    /// <summary>Y = A·X (or Aᵀ·X) in float64; with <paramref name="absolute"/>, |A|·|X| (for error bounds).</summary>
    public static double[] Spmm(CsrMatrix a, double[] x, int width, bool transpose = false, bool absolute = false)
    {
        int outRows = transpose ? a.Columns : a.Rows;
        var y = new double[outRows * width];
        for (int r = 0; r < a.Rows; r++)
        {
            for (int k = a.RowPointers[r]; k < a.RowPointers[r + 1]; k++)
            {
                int c = a.ColumnIndices[k];
                double v = absolute ? Math.Abs(a.Values[k]) : a.Values[k];
                int dst = transpose ? c : r, src = transpose ? r : c;
                for (int j = 0; j < width; j++)
                {
                    double xv = x[src * width + j];
                    y[dst * width + j] += v * (absolute ? Math.Abs(xv) : xv);
                }
            }
        }
        return y;
    }

    /// <summary>out[:, j] = Σ_l c_{l,j} (Aˡ E)[:, j], c_{l,j} = (1−β_j) β_jˡ / (1−β_j^{L+1}) (1/(L+1) at β_j = 1).</summary>
    public static double[] Fsc(CsrMatrix a, double[] e, int width, int layers, float[] beta, bool transpose = false, bool absolute = false)
    {
        var power = (double[])e.Clone(); // Aˡ E
        if (absolute)
        {
            for (int k = 0; k < power.Length; k++)
            {
                power[k] = Math.Abs(power[k]);
            }
        }
        var output = new double[e.Length];
        for (int l = 0; l <= layers; l++)
        {
            if (l > 0)
            {
                power = Spmm(a, power, width, transpose, absolute);
            }
            for (int row = 0; row < e.Length / width; row++)
            {
                for (int j = 0; j < width; j++)
                {
                    output[row * width + j] += LayerWeight(beta[j], l, layers) * power[row * width + j];
                }
            }
        }
        return output;
    }

    public static double LayerWeight(double beta, int l, int layers)
    {
        if (beta == 1.0)
        {
            return 1.0 / (layers + 1);
        }
        return (1 - beta) * Math.Pow(beta, l) / (1 - Math.Pow(beta, layers + 1));
    }

    public static double[] ToDouble(float[] x) => Array.ConvertAll(x, v => (double)v);

    /// <summary>
    /// Asserts |actual − expected| ≤ tol·bound elementwise, where bound is the same computation on
    /// absolute values (the classical forward-error bound for sums of products), and that nothing is NaN.
    /// </summary>
    public static void AssertClose(double[] expected, double[] bound, float[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            double err = Math.Abs(actual[k] - expected[k]);
            // The bound term covers rounding in the sums; the tiny absolute floor covers results that are exactly zero.
            if (!(err <= tol * bound[k] + 1e-30))
            {
                Assert.Fail($"{what}: element {k} is {actual[k]}, expected {expected[k]} (error {err:E3} > {tol:E2} × bound {bound[k]:E3}).");
            }
        }
    }

    /// <summary>Unit roundoff of float32.</summary>
    public const double U = 1.0 / (1 << 24);
}
