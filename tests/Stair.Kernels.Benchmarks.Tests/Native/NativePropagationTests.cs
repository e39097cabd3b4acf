// The C SpMM and FSC references must be bitwise equal to Stair's Propagation.Spmm and Propagation.Fsc
// (same FMA chain per element in storage order from +0, same epilogue order), at every width and thread count.
using Stair.Kernels.Benchmarks.Native;
using static Stair.Kernels.Benchmarks.Tests.Native.NativeTestSupport;

namespace Stair.Kernels.Benchmarks.Tests.Native;

public sealed class NativePropagationTests
{
    [SkippableFact]
    public void Spmm_IsBitwiseEqualToStair_OnAwkwardGraphs()
    {
        NativeReference native = Require();
        CheckSpmm(native, "default build");
    }

    [SkippableFact]
    public void Fsc_IsBitwiseEqualToStair_ForLayersZeroToThree()
    {
        NativeReference native = Require();
        CheckFsc(native, "default build");
    }

    [SkippableFact]
    public void FscOverTranspose_IsBitwiseEqualToStairFscBackward()
    {
        NativeReference native = Require();
        CsrMatrix a = SquareGraphs().First().Matrix;
        var plan = new PropagationPlan(a, new CpuOptions(SimdTier.Auto, 2));
        Assert.False(plan.IsSymmetric);
        const int width = 70;
        float[] gradient = Table((long)a.Rows * width, seed: 5);
        for (int row = 0; row < a.Rows; row += 2)
        {
            Array.Clear(gradient, row * width, width); // row-sparse, as a BPR gradient: Stair skips these gathers, C does not
        }
        float[] beta = Beta(width);
        var expected = new float[gradient.Length];
        var actual = new float[gradient.Length];
        Propagation.FscBackward(plan, gradient, expected, width, 3, beta, new PropagationWorkspace(a.Rows, width));
        native.Fsc(plan.Transposed, gradient, actual, width, 3, beta, new PropagationWorkspace(a.Rows, width), threads: 2);
        AssertBitwise(expected, actual, "FSC backward (Aᵀ), d = 70, L = 3");
    }

    [SkippableFact]
    public void SpmmAndFsc_OfOtherInstructionSets_AreBitwiseEqualToStair()
    {
        Skip.IfNot(NativeReference.CompilerAvailable, "gcc is not available on this machine");
        // AVX2 + FMA (no AVX-512) only where the CPU runs it; the scalar build (fmaf) everywhere.
        var builds = new List<(string March, int Isa)> { ("-march=x86-64", 1) };
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)
        {
            builds.Add(("-march=x86-64-v3", 256));
        }
        foreach ((string march, int isa) in builds)
        {
            NativeReference native = RequireBuild(WithMarch(march));
            Assert.Equal(isa, native.Isa);
            CheckSpmm(native, march);
            CheckFsc(native, march);
        }
    }

    [SkippableFact]
    public void Spmm_OfAnEmptyMatrix_WritesNothing()
    {
        NativeReference native = Require();
        native.Spmm(new CsrMatrix(0, 0, [0], [], []), [], [], 5, threads: 2);
        var y = new float[3 * 4];
        Array.Fill(y, float.NaN);
        native.Spmm(new CsrMatrix(3, 0, [0, 0, 0, 0], [], []), [], y, 4, threads: 2);
        Assert.All(y, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v))); // +0 everywhere, as Stair writes
    }

    private static void CheckSpmm(NativeReference native, string build)
    {
        foreach ((string name, CsrMatrix a) in AllGraphs())
        {
            foreach (int width in Widths)
            {
                float[] x = Table((long)a.Columns * width, seed: width);
                foreach (int threads in new[] { 1, 2 })
                {
                    var expected = new float[(long)a.Rows * width];
                    var actual = new float[expected.Length];
                    Array.Fill(actual, float.NaN);
                    Propagation.Spmm(new PropagationPlan(a, new CpuOptions(SimdTier.Auto, threads)), x, expected, width);
                    native.Spmm(a, x, actual, width, threads);
                    AssertBitwise(expected, actual, $"SpMM {build}, {name}, d = {width}, {threads} threads");
                }
            }
        }
    }

    private static void CheckFsc(NativeReference native, string build)
    {
        foreach ((string name, CsrMatrix a) in SquareGraphs())
        {
            foreach (int width in Widths)
            {
                float[] e = Table((long)a.Rows * width, seed: 100 + width);
                float[] beta = Beta(width);
                foreach (int threads in new[] { 1, 2 })
                {
                    var plan = new PropagationPlan(a, new CpuOptions(SimdTier.Auto, threads));
                    var stairWorkspace = new PropagationWorkspace(a.Rows, width);
                    var nativeWorkspace = new PropagationWorkspace(a.Rows, width);
                    for (int layers = 0; layers <= 3; layers++)
                    {
                        var expected = new float[e.Length];
                        var actual = new float[e.Length];
                        Array.Fill(actual, float.NaN);
                        Propagation.Fsc(plan, e, expected, width, layers, beta, stairWorkspace);
                        native.Fsc(a, e, actual, width, layers, beta, nativeWorkspace, threads);
                        AssertBitwise(expected, actual, $"FSC {build}, {name}, d = {width}, L = {layers}, {threads} threads");
                    }
                }
            }
        }
    }
}
