// The embedding update's contracts that the ten-step float64 comparisons in EmbeddingUpdateTests do not reach
// (found by mutation testing, kernels.md "Mutation score"): hyperparameters and strengths valid at the ends of
// their ranges, a non-finite gradient element inside a vector body (not only in a tail), the first bad index
// named, AdamState's own checks, BSC on a non-symmetric S̃ (the smoothing must not run on S̃ᵀ), a thread's first
// row-norm-clipped step, and the CPU backend's state behind ComputeContext.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;
using static Stair.Kernels.Tests.Updates.UpdateTestData;

namespace Stair.Kernels.Tests.Updates;

public class UpdateContractTests
{
    private const int Rows = 9, D = 21, Layers = 2;

    [Fact]
    public void Hyperparameters_and_strengths_at_the_ends_of_their_ranges_are_accepted()
    {
        float[] gradient = Gradient(Rows * D, 3, 1f);
        // β1 = 0 and β2 = 0 (no averaging), lr·wd = 1 exactly with decoupled decay (E·(1 − lr·wd) = 0).
        foreach (AdamWOptions options in new[]
                 {
                     new AdamWOptions(1e-2f, Beta1: 0f), new AdamWOptions(1e-2f, Beta2: 0f),
                     new AdamWOptions(0.5f, WeightDecay: 2f, Decoupled: true),
                 })
        {
            float[] table = TestGraphs.Table(Rows, D, 4);
            var state = new AdamState(Rows, D);
            AdamReferenceStep expected = EmbeddingUpdateReference.Step(table, gradient, state.M, state.V, 0, D, options);
            UpdateResult result = EmbeddingUpdate.AdamWStep(table, gradient, state, options);
            Assert.False(result.Skipped);
            Assert.True(expected.MaxScaledError(table, state.M, state.V) <= 1, $"{options}");
        }
        // b_j = 0 (no smoothing of column j) and b_j = 1 are both valid strengths.
        CsrMatrix graph = ItemGraph(Rows, seed: 2, isolated: 1);
        float[] b = StepwiseWeights.Backward(D, 0.2);
        b[0] = 0f;
        b[D - 1] = 1f;
        float[] t = TestGraphs.Table(Rows, D, 5);
        var s = new AdamState(Rows, D);
        var opts = new AdamWOptions(1e-2f);
        AdamReferenceStep bsc = EmbeddingUpdateReference.Step(t, gradient, s.M, s.V, 0, D, opts, graph, b, Layers);
        EmbeddingUpdate.BscAdamWStep(t, gradient, s, new PropagationPlan(graph), b, Layers, new BscWorkspace(Rows, D), opts);
        Assert.True(bsc.MaxScaledError(t, s.M, s.V) <= 1);
    }

    [Fact]
    public void A_non_finite_element_inside_a_vector_body_is_found_on_every_tier()
    {
        // Earlier tests always put one bad element in the scalar tail too; here it is only at column 2 of row 3
        // (inside the first vector of every tier's body), so each tier's vector scan must find it itself.
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in new[] { 1, 2 })
            {
                float[] table = TestGraphs.Table(Rows, D, 6), before = Copy(table);
                var state = new AdamState(Rows, D);
                float[] gradient = Gradient(Rows * D, 7, 1f);
                gradient[3 * D + 2] = float.NaN;
                UpdateResult result = EmbeddingUpdate.AdamWStep(table, gradient, state, new AdamWOptions(1e-2f), new CpuOptions(tier, threads));
                Assert.True(result.Skipped, $"{tier}/{threads}");
                Assert.Equal(1, result.NonFiniteGradients);
                Bits.AssertBitsEqual(before, table, $"{tier}/{threads} table");
            }
        }
    }

    [Fact]
    public void The_error_names_the_first_bad_index_when_it_is_index_zero()
    {
        float[] table = TestGraphs.Table(Rows, D, 6);
        float[] gradient = Gradient(Rows * D, 8, 1f);
        gradient[0] = float.PositiveInfinity;
        gradient[5 * D + 1] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => EmbeddingUpdate.AdamWStep(table, gradient, new AdamState(Rows, D),
            new AdamWOptions(1e-2f, NonFinite: NonFinitePolicy.Throw)));
        Assert.Contains("2 non-finite value(s); the first is ", error.Message);
        Assert.Contains(" at index 0 (row 0, column 0)", error.Message);
    }

    [Fact]
    public void AdamState_checks_its_arguments_and_resets_to_zero()
    {
        // rows × width past .NET's largest array is refused before anything is allocated.
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamState(int.MaxValue, 2)).ParamName);
        var state = new AdamState(Rows, D);
        Assert.Throws<ArgumentOutOfRangeException>(() => state.SetStep(-1));
        EmbeddingUpdate.AdamWStep(TestGraphs.Table(Rows, D, 1), Gradient(Rows * D, 2, 1f), state, new AdamWOptions(1e-2f));
        state.SetStep(41);
        Assert.Equal(41, state.Step);
        Assert.Contains(state.M, v => v != 0);
        Assert.Contains(state.V, v => v != 0);
        state.Reset();
        Assert.Equal(0, state.Step);
        Assert.All(state.M, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
        Assert.All(state.V, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
    }

    [Fact]
    public void Bsc_smooths_over_the_graph_not_its_transpose()
    {
        // A directed S̃ (no symmetrization, row-normalized): S̃ᵀ smooths different neighbours, so a step that
        // propagated the wrong way is far outside the float32 bound of the float64 reference.
        const int items = 30;
        var rng = new Random(9);
        int[] sources = Enumerable.Range(0, 3 * items).Select(e => e % items).ToArray();
        int[] targets = sources.Select(s => (s + 1 + rng.Next(items - 1)) % items).ToArray();
        CsrMatrix graph = GraphBuilder.FromEdges(items, items, sources, targets, [], symmetrize: false, GraphNormalization.Left);
        Assert.False(graph.IsSymmetric());
        float[] b = StepwiseWeights.Backward(D, 0.3);
        var options = new AdamWOptions(1e-2f, WeightDecay: 0.01f);
        float[] table = TestGraphs.Table(items, D, 10);
        float[] gradient = Gradient(items * D, 11, 1f);
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            float[] t = Copy(table);
            var state = new AdamState(items, D);
            AdamReferenceStep expected = EmbeddingUpdateReference.Step(t, gradient, state.M, state.V, 0, D, options, graph, b, Layers);
            EmbeddingUpdate.BscAdamWStep(t, gradient, state, new PropagationPlan(graph, new CpuOptions(tier)), b, Layers, new BscWorkspace(items, D), options);
            double error = expected.MaxScaledError(t, state.M, state.V);
            Assert.True(error <= 1, $"{tier}: error {error:G3} × the float32 bound");
        }
    }

    [Fact]
    public void A_threads_first_row_norm_clipped_step_equals_a_warm_threads()
    {
        // The row-norm clip stages each row's Δ in a per-part buffer sized on the thread's first step.
        var options = new AdamWOptions(1e-2f, Clip: UpdateClip.RowNorm(0.05f));
        float[] gradient = Gradient(Rows * D, 12, 1f);
        float[] warm = TestGraphs.Table(Rows, D, 13), fresh = Copy(warm);
        var warmState = new AdamState(Rows, D);
        var freshState = new AdamState(Rows, D);
        UpdateResult warmResult = EmbeddingUpdate.AdamWStep(warm, gradient, warmState, options, new CpuOptions(Threads: 2));
        UpdateResult freshResult = default;
        var thread = new Thread(() => freshResult = EmbeddingUpdate.AdamWStep(fresh, gradient, freshState, options, new CpuOptions(Threads: 2)));
        thread.Start();
        thread.Join();
        Assert.True(warmResult.ClippedRows > 0);
        Assert.Equal(warmResult, freshResult);
        Bits.AssertBitsEqual(warm, fresh, "table");
        Bits.AssertBitsEqual(warmState.M, freshState.M, "m");
    }

    [Fact]
    public void The_cpu_backends_state_steps_as_the_host_api_does()
    {
        using ComputeContext context = ComputeContext.Create(Backend.Cpu, new CpuOptions(Threads: 1));
        float[] table = TestGraphs.Table(Rows, D, 14), gradient = Gradient(Rows * D, 15, 1f);
        var options = new AdamWOptions(1e-2f, WeightDecay: 0.1f);
        using DeviceTable deviceTable = context.Upload(table, Rows, D);
        using DeviceTable deviceGradient = context.Upload(gradient, Rows, D);
        using DeviceAdamState deviceState = context.CreateAdamState(Rows, D);
        context.AdamWStep(deviceTable, deviceGradient, deviceState, options);
        var state = new AdamState(Rows, D);
        EmbeddingUpdate.AdamWStep(table, gradient, state, options, new CpuOptions(Threads: 1));
        Bits.AssertBitsEqual(table, deviceTable.ToArray(), "table");
        Bits.AssertBitsEqual(state.M, deviceState.M.ToArray(), "m");
        Bits.AssertBitsEqual(state.V, deviceState.V.ToArray(), "v");
    }
}
