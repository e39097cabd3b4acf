// Test-side view of the float64 references (Stair.Kernels.Validation.Float64Reference,
// shared with `stair-kernels validate`) plus the element-wise assertion the tests use.
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Infrastructure;

public static class Reference
{
    public const double U = Float64Reference.UnitRoundoff;

    public static double[] Spmm(CsrMatrix a, double[] x, int width, bool transpose = false, bool absolute = false)
        => Float64Reference.Spmm(a, x, width, transpose, absolute);

    public static double[] Fsc(CsrMatrix a, double[] e, int width, int layers, float[] beta, bool transpose = false, bool absolute = false)
        => Float64Reference.Fsc(a, e, width, layers, beta, transpose, absolute);

    public static double[] ToDouble(float[] x) => Float64Reference.ToDouble(x);

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
            if (!(err <= tol * bound[k]))
            {
                Assert.Fail($"{what}: element {k} is {actual[k]}, expected {expected[k]} (error {err:E3} > {tol:E2} × bound {bound[k]:E3}).");
            }
        }
    }
}
