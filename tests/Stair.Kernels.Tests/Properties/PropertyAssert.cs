// The element-wise check of the properties: Reference.AssertClose's relative bound plus an absolute
// underflow floor. The classical bound |error| ≤ tol·(the same computation on absolute values)
// assumes no underflow; CsCheck's float generator reaches values as small as 1e-40, whose products
// land in the subnormal range (or below it), where one rounding can lose up to the spacing of the
// subnormals, 2⁻¹⁴⁹, and a device that flushes subnormals to zero (OpenCL allows it for float) up to
// 2⁻¹²⁶, the smallest normal. Higham's model with underflow, fl(x op y) = (x op y)(1 + δ) + η with
// |η| ≤ λ (Accuracy and Stability, §2.1), adds at most λ per rounding: the floor is λ = 2⁻¹²⁶ times
// the number of roundings that feed an element (times how much later steps may grow them), which
// is below 10⁻²⁹ for every generated shape and so never hides an error in a normal-range result.
namespace Stair.Kernels.Tests.Properties;

public static class PropertyAssert
{
    /// <summary>The smallest normal float, 2⁻¹²⁶: the most one rounding can lose to underflow, flush-to-zero included.</summary>
    public const double Underflow = 1.1754943508222875e-38;

    /// <summary>The floor of an SpMM element summing <paramref name="terms"/> products (a product and an add each).</summary>
    public static double SpmmFloor(int terms) => 2.0 * (terms + 1) * Underflow;

    /// <summary>
    /// The floor of an FSC element: L + 1 weighted adds of L SpMM layers, each layer's floor grown by at most
    /// max(1, n) through every later layer (|a| ≤ 1 and at most n terms per element).
    /// </summary>
    public static double FscFloor(int terms, int layers) => (layers + 2) * SpmmFloor(terms + 4) * Math.Pow(Math.Max(1, terms), layers);

    /// <summary>Fails unless |actual − expected| ≤ tol·bound + floor in every element and nothing is NaN.</summary>
    public static void Close(double[] expected, double[] bound, float[] actual, double tol, double floor, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            double err = Math.Abs(actual[k] - expected[k]);
            if (!(err <= tol * bound[k] + floor))
            {
                Assert.Fail($"{what}: element {k} is {actual[k]:R}, expected {expected[k]:R} (error {err:E3} > {tol:E2} × bound {bound[k]:E3} + floor {floor:E1}).");
            }
        }
    }
}
