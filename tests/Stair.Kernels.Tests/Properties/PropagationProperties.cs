// Properties of the propagation kernels: for any generated CSR matrix and table, SpMM, transposed
// SpMM, FSC and FSC backward agree with the float64 reference on every target, and the CPU
// tiers agree with each other bit for bit (SimdTiers: "every tier produces bitwise identical
// results"). Tolerances are those of the example-based tests (BackendPropagationTests), relative
// to the same computation on absolute values, so they hold at any scale and for cancellation:
// SpMM is one FMA chain of n terms per element, |error| ≤ γ_n·(|A|·|X|) (Higham §3.1), with 2×
// slack (Float64Reference.SpmmTolerance, n = the most terms any output element sums, repeats
// included); FSC compounds that over L products and L + 1 weighted adds (FscTolerance). The
// ILGPU kernels round products and sums separately where the CPU fuses them, within the same γ_n.
// On top, an absolute floor for underflow (PropertyAssert): the generated values reach 1e-40.
using CsCheck;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Properties;

public sealed record SpmmCase(CsrCase A, int Width, float[] X, int Threads)
{
    public override string ToString() => $"A = {A}; d = {Width}; X = {Show.Floats(X)}; threads = {Threads}";
}

public sealed record FscCase(CsrCase A, int Width, float[] E, float[] Beta, int Layers, int Threads)
{
    public override string ToString()
        => $"A = {A}; d = {Width}; L = {Layers}; β = {Show.Floats(Beta)}; E = {Show.Floats(E)}; threads = {Threads}";
}

[Collection(nameof(PropertyCollection))]
public class PropagationProperties(PropertyContexts contexts)
{
    public static TheoryData<string> Targets() => PropertyTarget.Every();

    private static Gen<SpmmCase> SpmmCases(Sizes sizes, bool transpose)
        => from a in Generators.Csr(sizes, square: false)
           from d in Generators.Width(sizes)
           from x in Generators.Table((transpose ? a.Rows : a.Columns) * d)
           from threads in Generators.Threads
           select new SpmmCase(a, d, x, threads);

    /// <summary>Square graphs; E has about a third of its rows zero (the backward pass's row-sparse seed path).</summary>
    private static Gen<FscCase> FscCases(Sizes sizes)
        => from a in Generators.Csr(sizes, square: true)
           from d in Generators.Width(sizes)
           from e in Generators.Table(a.Rows * d)
           from zero in Gen.Int[0, 2].Array[a.Rows]
           from beta in Generators.Strength.Array[d]
           from layers in Gen.Int[0, sizes.MaxLayers]
           from threads in Generators.Threads
           select new FscCase(a, d, ZeroRows(e, zero, d), beta, layers, threads);

    private static float[] ZeroRows(float[] e, int[] zero, int d)
    {
        for (int r = 0; r < zero.Length; r++)
        {
            if (zero[r] == 0)
            {
                e.AsSpan(r * d, d).Clear();
            }
        }
        return e;
    }

    [SkippableTheory]
    [MemberData(nameof(Targets))]
    public void Spmm_matches_float64(string targetName) => SpmmProperty(targetName, transpose: false);

    [SkippableTheory]
    [MemberData(nameof(Targets))]
    public void Transposed_spmm_matches_float64(string targetName) => SpmmProperty(targetName, transpose: true);

    [SkippableTheory]
    [MemberData(nameof(Targets))]
    public void Fsc_matches_float64(string targetName) => FscProperty(targetName, backward: false);

    [SkippableTheory]
    [MemberData(nameof(Targets))]
    public void Fsc_backward_matches_float64(string targetName) => FscProperty(targetName, backward: true);

    private void SpmmProperty(string targetName, bool transpose)
    {
        PropertyTarget target = PropertyTarget.Named(targetName);
        target.SkipIfMissing();
        PropertyRun.Check(transpose ? "spmm-transposed" : "spmm", target, SpmmCases(Sizes.For(target), transpose), c =>
        {
            CsrMatrix a = c.A.Matrix();
            double[] x = Reference.ToDouble(c.X);
            double[] expected = Reference.Spmm(a, x, c.Width, transpose), bound = Reference.Spmm(a, x, c.Width, transpose, absolute: true);
            double tol = Float64Reference.SpmmTolerance(c.A.MaxTerms);
            int inRows = transpose ? a.Rows : a.Columns, outRows = transpose ? a.Columns : a.Rows;
            float[]? first = null;
            foreach ((string label, ComputeContext context) in contexts.For(target, c.Threads))
            {
                using DeviceGraph g = context.Upload(a);
                using DeviceTable input = context.Upload(c.X, inRows, c.Width);
                using DeviceTable output = context.Upload(TestGraphs.Poisoned(outRows * c.Width), outRows, c.Width); // an unwritten element fails
                context.Spmm(g, input, output, transpose);
                float[] y = output.ToArray();
                PropertyAssert.Close(expected, bound, y, tol, PropertyAssert.SpmmFloor(c.A.MaxTerms), $"{label} spmm{(transpose ? "ᵀ" : "")}");
                AssertSameBits(ref first, y, label);
            }
        }, c => c.ToString());
    }

    private void FscProperty(string targetName, bool backward)
    {
        PropertyTarget target = PropertyTarget.Named(targetName);
        target.SkipIfMissing();
        PropertyRun.Check(backward ? "fsc-backward" : "fsc", target, FscCases(Sizes.For(target)), c =>
        {
            CsrMatrix a = c.A.Matrix();
            double[] e = Reference.ToDouble(c.E);
            double[] expected = Reference.Fsc(a, e, c.Width, c.Layers, c.Beta, transpose: backward);
            double[] bound = Reference.Fsc(a, e, c.Width, c.Layers, c.Beta, transpose: backward, absolute: true);
            double tol = Float64Reference.FscTolerance(c.A.MaxTerms, c.Layers);
            float[]? first = null;
            foreach ((string label, ComputeContext context) in contexts.For(target, c.Threads))
            {
                using DeviceGraph g = context.Upload(a);
                using DeviceTable input = context.Upload(c.E, a.Rows, c.Width);
                using DeviceTable output = context.Upload(TestGraphs.Poisoned(a.Rows * c.Width), a.Rows, c.Width);
                using StepwiseFilter filter = context.CreateFilter(c.Beta, c.Layers);
                context.FscOrBackward(g, input, output, filter, backward);
                float[] y = output.ToArray();
                PropertyAssert.Close(expected, bound, y, tol, PropertyAssert.FscFloor(c.A.MaxTerms, c.Layers), $"{label} fsc{(backward ? " backward" : "")}");
                AssertSameBits(ref first, y, label);
            }
        }, c => c.ToString());
    }

    /// <summary>The CPU tiers of one case give the same bits (an ILGPU target runs once, so this is a no-op there).</summary>
    internal static void AssertSameBits(ref float[]? first, float[] result, string label)
    {
        if (first is null)
        {
            first = result;
            return;
        }
        Bits.AssertBitsEqual(first, result, $"{label} against the first tier");
    }
}
