// Propagation kernels (SpMM, transpose SpMM, FSC forward/backward) on every SIMD tier this
// machine has, against the float64 reference, on awkward shapes and widths.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;
using static Stair.Kernels.Tests.Infrastructure.Reference;

namespace Stair.Kernels.Tests.Propagation;

public class PropagationTests
{
    // Odd and even widths plus every chunk boundary of the drivers (4, 8, 16, 32, 64 and their neighbours).
    public static readonly int[] Widths = [1, 3, 7, 8, 12, 15, 16, 17, 24, 31, 33, 47, 64, 65, 100, 127];

    public static TheoryData<SimdTier, string, int> TierGraphWidth()
    {
        var data = new TheoryData<SimdTier, string, int>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (string graph in TestGraphs.SquareCases)
            {
                foreach (int d in Widths)
                {
                    data.Add(tier, graph, d);
                }
            }
        }
        return data;
    }

    public static TheoryData<SimdTier> Tiers()
    {
        var data = new TheoryData<SimdTier>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            data.Add(tier);
        }
        return data;
    }

    // Error bound: each output is a sum of at most maxDeg products formed by an FMA chain, so
    // |error| ≤ maxDeg·u·(|A|·|X|) (Higham, Accuracy and Stability, §3.1); 2× for slack.
    private static double SpmmTolerance(CsrMatrix a) => Float64Reference.SpmmTolerance(TestGraphs.MaxRowLength(a));

    // FSC compounds L products and L+1 weighted adds: the per-layer bound times (L + 2) layers,
    // measured against the same computation on |A| and |E|.
    private static double FscTolerance(CsrMatrix a, int layers) => Float64Reference.FscTolerance(TestGraphs.MaxRowLength(a), layers);

    [Theory]
    [MemberData(nameof(TierGraphWidth))]
    public void Spmm_matches_float64_reference(SimdTier tier, string graph, int d)
    {
        CsrMatrix a = TestGraphs.Square(graph);
        var plan = new PropagationPlan(a, new CpuOptions(tier, Threads: 2));
        float[] x = TestGraphs.Table(a.Columns, d, seed: d);
        float[] y = TestGraphs.Poisoned(a.Rows * d);

        Kernels.Propagation.Spmm(plan, x, y, d);

        AssertClose(Spmm(a, ToDouble(x), d), Spmm(a, ToDouble(x), d, absolute: true), y, SpmmTolerance(a), $"SpMM {tier} {graph} d={d}");
    }

    [Theory]
    [MemberData(nameof(TierGraphWidth))]
    public void Transpose_spmm_matches_float64_reference(SimdTier tier, string graph, int d)
    {
        CsrMatrix a = TestGraphs.Square(graph);
        var plan = new PropagationPlan(a, new CpuOptions(tier, Threads: 2));
        float[] x = TestGraphs.Table(a.Rows, d, seed: 100 + d);
        float[] y = TestGraphs.Poisoned(a.Columns * d);

        Kernels.Propagation.Spmm(plan, x, y, d, transpose: true);

        AssertClose(Spmm(a, ToDouble(x), d, transpose: true), Spmm(a, ToDouble(x), d, transpose: true, absolute: true), y,
            SpmmTolerance(a.Transpose()), $"SpMMᵀ {tier} {graph} d={d}");
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Spmm_on_rectangular_matrices_both_directions(SimdTier tier)
    {
        foreach ((int rows, int cols) in new[] { (120, 70), (1, 5), (5, 1), (0, 4), (4, 0) })
        {
            CsrMatrix a = rows == 0 || cols == 0
                ? new CsrMatrix(rows, cols, new int[rows + 1], [], [])
                : TestGraphs.RandomPowerLaw(rows, cols, seed: (ulong)(rows + cols));
            var plan = new PropagationPlan(a, new CpuOptions(tier));
            foreach (int d in new[] { 3, 17 })
            {
                float[] x = TestGraphs.Table(cols, d, seed: 1);
                float[] y = TestGraphs.Poisoned(rows * d);
                Kernels.Propagation.Spmm(plan, x, y, d);
                AssertClose(Spmm(a, ToDouble(x), d), Spmm(a, ToDouble(x), d, absolute: true), y, SpmmTolerance(a), $"{rows}×{cols}");

                float[] xt = TestGraphs.Table(rows, d, seed: 2);
                float[] yt = TestGraphs.Poisoned(cols * d);
                Kernels.Propagation.Spmm(plan, xt, yt, d, transpose: true);
                AssertClose(Spmm(a, ToDouble(xt), d, true), Spmm(a, ToDouble(xt), d, true, true), yt, SpmmTolerance(a.Transpose()), $"{rows}×{cols}ᵀ");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TierGraphWidth))]
    public void Fsc_forward_and_backward_match_float64_reference(SimdTier tier, string graph, int d)
    {
        CsrMatrix a = TestGraphs.Square(graph);
        var plan = new PropagationPlan(a, new CpuOptions(tier, Threads: 2));
        var workspace = new PropagationWorkspace(a.Rows, d);
        float[] beta = StepwiseWeights.Forward(d, gamma: 0.3);
        float[] e = TestGraphs.Table(a.Rows, d, seed: 7 * d);

        foreach (int layers in new[] { 0, 1, 2, 3, 4 })
        {
            foreach (bool transpose in new[] { false, true })
            {
                float[] y = TestGraphs.Poisoned(a.Rows * d);
                if (transpose)
                {
                    Kernels.Propagation.FscBackward(plan, e, y, d, layers, beta, workspace);
                }
                else
                {
                    Kernels.Propagation.Fsc(plan, e, y, d, layers, beta, workspace);
                }
                AssertClose(Fsc(a, ToDouble(e), d, layers, beta, transpose), Fsc(a, ToDouble(e), d, layers, beta, transpose, absolute: true),
                    y, FscTolerance(a, layers), $"FSC {tier} {graph} d={d} L={layers} transpose={transpose}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Fsc_adjoint_identity_holds_on_a_non_symmetric_matrix(SimdTier tier)
    {
        // ⟨FSC(x), y⟩ = ⟨x, FSCᵀ(y)⟩: the backward pass is the exact adjoint of the forward pass.
        CsrMatrix a = TestGraphs.RandomPowerLaw(150, 150, seed: 21);
        const int d = 33, layers = 3;
        var plan = new PropagationPlan(a, new CpuOptions(tier));
        Assert.False(plan.IsSymmetric);
        var workspace = new PropagationWorkspace(a.Rows, d);
        float[] beta = StepwiseWeights.Forward(d, 0.25);
        float[] x = TestGraphs.Table(a.Rows, d, 1), y = TestGraphs.Table(a.Rows, d, 2);
        float[] fx = new float[x.Length], fty = new float[y.Length];
        Kernels.Propagation.Fsc(plan, x, fx, d, layers, beta, workspace);
        Kernels.Propagation.FscBackward(plan, y, fty, d, layers, beta, workspace);

        double left = 0, right = 0, scale = 0;
        for (int k = 0; k < x.Length; k++)
        {
            left += (double)fx[k] * y[k];
            right += (double)x[k] * fty[k];
            scale += Math.Abs((double)fx[k] * y[k]) + Math.Abs((double)x[k] * fty[k]);
        }
        // Both sides carry the float32 rounding of their own FSC (relative ~1e-6 of the terms).
        Assert.True(Math.Abs(left - right) <= 1e-5 * scale, $"⟨FSC x, y⟩ = {left}, ⟨x, FSCᵀ y⟩ = {right}");
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Fsc_limits_beta_zero_gives_input_and_beta_one_gives_plain_average(SimdTier tier)
    {
        CsrMatrix a = TestGraphs.SmallAdjacency(40, 30, seed: 9);
        const int d = 19, layers = 3;
        var plan = new PropagationPlan(a, new CpuOptions(tier));
        var workspace = new PropagationWorkspace(a.Rows, d);
        float[] e = TestGraphs.Table(a.Rows, d, 3);

        float[] y = TestGraphs.Poisoned(e.Length);
        Kernels.Propagation.Fsc(plan, e, y, d, layers, new float[d], workspace);
        Bits.AssertBitsEqual(e, y, "FSC with beta = 0 is the input"); // β = 0: every layer weight but the first is 0, and c = 1 exactly.

        float[] ones = Enumerable.Repeat(1f, d).ToArray();
        Kernels.Propagation.Fsc(plan, e, y, d, layers, ones, workspace);
        double[] average = new double[e.Length];
        double[] power = ToDouble(e);
        double[] bound = new double[e.Length];
        double[] absPower = Array.ConvertAll(ToDouble(e), Math.Abs);
        for (int l = 0; l <= layers; l++)
        {
            if (l > 0)
            {
                power = Spmm(a, power, d);
                absPower = Spmm(a, absPower, d, absolute: true);
            }
            for (int k = 0; k < e.Length; k++)
            {
                average[k] += power[k] / (layers + 1);
                bound[k] += absPower[k] / (layers + 1);
            }
        }
        AssertClose(average, bound, y, FscTolerance(a, layers), "β = 1 average");
    }

    [Fact]
    public void All_tiers_and_thread_counts_give_bitwise_identical_results()
    {
        CsrMatrix a = SyntheticGraphs.Adjacency(new DatasetShape("tiny", 900, 400, 6000), seed: 1);
        const int d = 37, layers = 3;
        float[] beta = StepwiseWeights.Forward(d, 0.2);
        float[] e = TestGraphs.Table(a.Rows, d, 5);
        float[]? first = null;
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in new[] { 1, 2, 3, 8 })
            {
                var plan = new PropagationPlan(a, new CpuOptions(tier, threads));
                float[] y = TestGraphs.Poisoned(e.Length);
                Kernels.Propagation.Fsc(plan, e, y, d, layers, beta, new PropagationWorkspace(a.Rows, d));
                first ??= y;
                Bits.AssertBitsEqual(first, y, $"{tier} with {threads} threads vs the first tier");
                for (int repeat = 0; repeat < 2; repeat++)
                {
                    float[] again = new float[e.Length];
                    Kernels.Propagation.Fsc(plan, e, again, d, layers, beta, new PropagationWorkspace(a.Rows, d));
                    Bits.AssertBitsEqual(first, again, $"{tier} with {threads} threads, repeat {repeat}");
                }
            }
        }
    }

    [Fact]
    public void Symmetric_matrices_share_one_csr_for_both_directions()
    {
        var plan = new PropagationPlan(TestGraphs.SmallAdjacency(20, 10, 1));
        Assert.True(plan.IsSymmetric);
        Assert.Same(plan.Matrix, plan.Transposed);
        var nonSymmetric = new PropagationPlan(TestGraphs.RandomPowerLaw(20, 20, 1));
        Assert.False(nonSymmetric.IsSymmetric);
    }

    [Fact]
    public void Stepwise_weights_follow_the_formula()
    {
        float[] b = StepwiseWeights.Backward(64, 0.1);
        float[] beta = StepwiseWeights.Forward(64, 0.1);
        Assert.Equal(0.1f, b[0]);
        Assert.Equal(0.9f, beta[0]);
        for (int j = 0; j < 64; j++)
        {
            double expected = 0.1 + 0.9 * Math.Pow(j / 64.0, 0.1);
            Assert.Equal((float)expected, b[j]);
            Assert.Equal((float)(1 - expected), beta[j]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => StepwiseWeights.Forward(64, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StepwiseWeights.Forward(0, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StepwiseWeights.Backward(8, double.NaN));
    }
}
