// EmbeddingUpdate on the CPU: ten consecutive (BSC-)AdamW / Adam steps against the float64
// reference step by step (state included) on every SIMD tier, bitwise agreement across tiers
// and thread counts, clipping bounds, the non-finite gradient policy and every bad input.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;
using static Stair.Kernels.Tests.Updates.UpdateTestData;

namespace Stair.Kernels.Tests.Updates;

public class EmbeddingUpdateTests
{
    private const int Layers = 3;

    public static TheoryData<int, string> WidthsAndClips()
    {
        var data = new TheoryData<int, string>();
        foreach (int d in new[] { 1, 7, 17, 33, 64, 65 })
        {
            data.Add(d, "none");
        }
        data.Add(17, "row");
        data.Add(65, "row");
        data.Add(33, "element");
        data.Add(7, "adam");
        data.Add(64, "adam-row");
        return data;
    }

    private static AdamWOptions Options(string variant) => variant switch
    {
        "row" => new AdamWOptions(1e-2f, WeightDecay: 0.2f, Clip: UpdateClip.RowNorm(0.8f)),
        "element" => new AdamWOptions(1e-2f, WeightDecay: 0.2f, Clip: UpdateClip.Element(0.3f)),
        "adam" => new AdamWOptions(1e-2f, WeightDecay: 0.1f, Decoupled: false),
        "adam-row" => new AdamWOptions(1e-2f, WeightDecay: 0.1f, Decoupled: false, Clip: UpdateClip.RowNorm(0.5f)),
        _ => new AdamWOptions(1e-2f, WeightDecay: 0.2f),
    };

    [Theory]
    [MemberData(nameof(WidthsAndClips))]
    public void Ten_bsc_steps_match_float64_step_by_step_on_every_tier(int d, string variant)
    {
        const int items = 61;
        CsrMatrix graph = ItemGraph(items, seed: d);
        float[] b = StepwiseWeights.Backward(d, 0.2);
        AdamWOptions options = Options(variant);
        float[] start = TestGraphs.Table(items, d, seed: 100 + d);
        RunTenSteps(d, items, options, start, (tier, threads) =>
        {
            var plan = new PropagationPlan(graph, new CpuOptions(tier, threads));
            var workspace = new BscWorkspace(items, d);
            return (table, gradient, state) =>
            {
                workspace.Delta.Span.Fill(float.NaN); // scratch the step fails to write cannot pass
                workspace.Smoothed.Span.Fill(float.NaN);
                return EmbeddingUpdate.BscAdamWStep(table, gradient, state, plan, b, Layers, workspace, options);
            };
        }, (table, gradient, state) => EmbeddingUpdateReference.Step(table, gradient, state.M, state.V, state.Step, d, options, graph, b, Layers));
    }

    [Theory]
    [MemberData(nameof(WidthsAndClips))]
    public void Ten_plain_steps_match_float64_step_by_step_on_every_tier(int d, string variant)
    {
        const int rows = 23;
        AdamWOptions options = Options(variant);
        float[] start = TestGraphs.Table(rows, d, seed: 200 + d);
        RunTenSteps(d, rows, options, start, (tier, threads) => (table, gradient, state) =>
            EmbeddingUpdate.AdamWStep(table, gradient, state, options, new CpuOptions(tier, threads)),
            (table, gradient, state) => EmbeddingUpdateReference.Step(table, gradient, state.M, state.V, state.Step, d, options));
    }

    private delegate UpdateResult StepCall(float[] table, float[] gradient, AdamState state);

    private static void RunTenSteps(int d, int rows, AdamWOptions options, float[] start, Func<SimdTier, int, StepCall> makeStep,
        Func<float[], float[], AdamState, AdamReferenceStep> reference)
    {
        var runs = new List<(string Name, StepCall Step, float[] Table, AdamState State)>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            runs.Add(($"{tier}/1", makeStep(tier, 1), Copy(start), new AdamState(rows, d)));
        }
        runs.Add(("best/2", makeStep(SimdTiers.Best, 2), Copy(start), new AdamState(rows, d)));
        long expectedClips = 0;
        for (int step = 1; step <= 10; step++)
        {
            // Gradients of changing scale and sign keep m, v and the clip decisions moving.
            float[] gradient = Gradient(rows * d, seed: 31 * step + d, scale: step % 3 == 0 ? 5f : 0.5f);
            float[]? firstTable = null, firstM = null, firstV = null;
            foreach ((string name, StepCall call, float[] table, AdamState state) in runs)
            {
                AdamReferenceStep expected = reference(table, gradient, state);
                UpdateResult result = call(table, gradient, state);
                Assert.Equal(step, result.Step);
                Assert.Equal(step, state.Step);
                Assert.False(result.Skipped);
                Assert.Equal(expected.ClippedRows, result.ClippedRows);
                expectedClips += expected.ClippedRows;
                double error = expected.MaxScaledError(table, state.M, state.V);
                Assert.True(error <= 1, $"{name} step {step} d={d}: error {error:G3} × the float32 bound");
                if (firstTable is null)
                {
                    (firstTable, firstM, firstV) = (Copy(table), Copy(state.M), Copy(state.V));
                }
                else
                {
                    // Every tier and thread count computes the same IEEE operations: the same bits.
                    AssertBitwiseEqual(firstTable, table, $"{name} table, step {step}");
                    AssertBitwiseEqual(firstM!, state.M, $"{name} m, step {step}");
                    AssertBitwiseEqual(firstV!, state.V, $"{name} v, step {step}");
                }
            }
        }
        if (options.Clip.Mode != ClipMode.None)
        {
            Assert.True(expectedClips > 0, "the clip variant should clip some rows");
        }
    }

    // With E = 0, lr = 1 and no decay the step writes E = fma(−1, Δ̃, 0) = −Δ̃ exactly, so the
    // clipped update itself can be checked: norms never above τ, unclipped rows bit for bit.
    [Theory]
    [InlineData(7, true)]
    [InlineData(33, true)]
    [InlineData(64, false)]
    [InlineData(65, false)]
    public void Row_norm_clip_bounds_every_row_and_leaves_rows_under_tau_untouched(int d, bool bsc)
    {
        const int rows = 40;
        CsrMatrix graph = ItemGraph(rows, seed: 5);
        float[] b = StepwiseWeights.Backward(d, 0.3);
        float[] gradient = Gradient(rows * d, 9, 1f);
        for (int r = 0; r < rows; r += 3)
        {
            gradient.AsSpan(r * d, d).Fill(1e-3f * (r + 1)); // uniform rows: |Δ| ≈ 1 per element, norm ≈ √d
        }
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            float[] free = Run(UpdateClip.None, out _);
            // τ between the two middle row norms: about half the rows need the clip, half do not.
            double[] norms = Enumerable.Range(0, rows).Select(r => Norm(free, r, d)).Order().ToArray();
            float tau = (float)(0.5 * (norms[rows / 2 - 1] + norms[rows / 2]));
            float[] clipped = Run(UpdateClip.RowNorm(tau), out UpdateResult result);
            long count = 0;
            for (int r = 0; r < rows; r++)
            {
                double freeNorm = Norm(free, r, d), norm = Norm(clipped, r, d);
                Assert.True(norm <= tau, $"{tier} row {r}: clipped norm {norm:R} > τ {tau:R}");
                if (freeNorm <= tau * (1 - 1e-5))
                {
                    AssertBitwiseEqual(free.AsSpan(r * d, d).ToArray(), clipped.AsSpan(r * d, d).ToArray(), $"{tier} row {r} (under τ)");
                }
                else if (freeNorm > tau * (1 + 1e-5))
                {
                    count++;
                    Assert.True(norm >= tau * (1 - 1e-5), $"{tier} row {r}: clipped to {norm}, expected ≈ τ {tau}");
                }
            }
            Assert.True(count > 0 && count < rows, $"the case should clip some rows but not all ({count})");
            Assert.Equal(count, result.ClippedRows);

            float[] Run(UpdateClip clip, out UpdateResult res)
            {
                var options = new AdamWOptions(1f, Clip: clip);
                var table = new float[rows * d];
                var state = new AdamState(rows, d);
                // A first step with another gradient, so Δ is no longer ±1 everywhere.
                EmbeddingUpdate.AdamWStep(new float[rows * d], Gradient(rows * d, 12, 2f), state, new AdamWOptions(1f), new CpuOptions(tier));
                res = bsc
                    ? EmbeddingUpdate.BscAdamWStep(table, gradient, state, new PropagationPlan(graph, new CpuOptions(tier)), b, Layers, new BscWorkspace(rows, d), options)
                    : EmbeddingUpdate.AdamWStep(table, gradient, state, options, new CpuOptions(tier));
                return table;
            }
        }
    }

    [Theory]
    [InlineData(17, true)]
    [InlineData(64, false)]
    public void Element_clip_bounds_every_element_and_leaves_small_ones_untouched(int d, bool bsc)
    {
        const int rows = 30;
        CsrMatrix graph = ItemGraph(rows, seed: 6);
        float[] b = StepwiseWeights.Backward(d, 0.3);
        float[] gradient = Gradient(rows * d, 10, 1f);
        const float c = 0.7f;
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            float[] free = Run(UpdateClip.None, out _);
            float[] clipped = Run(UpdateClip.Element(c), out UpdateResult result);
            long rowsChanged = 0;
            for (int r = 0; r < rows; r++)
            {
                bool any = false;
                for (int j = r * d; j < (r + 1) * d; j++)
                {
                    Assert.True(Math.Abs(clipped[j]) <= c, $"{tier} element {j}: {clipped[j]} outside [−c, c]");
                    if (Math.Abs(free[j]) <= c)
                    {
                        Assert.Equal(BitConverter.SingleToInt32Bits(free[j]), BitConverter.SingleToInt32Bits(clipped[j]));
                    }
                    else
                    {
                        Assert.Equal(Math.Sign(free[j]) * c, clipped[j]);
                        any = true;
                    }
                }
                rowsChanged += any ? 1 : 0;
            }
            Assert.True(rowsChanged > 0);
            Assert.Equal(rowsChanged, result.ClippedRows);

            float[] Run(UpdateClip clip, out UpdateResult res)
            {
                var options = new AdamWOptions(1f, Clip: clip);
                var table = new float[rows * d];
                var state = new AdamState(rows, d);
                // Two steps, so Δ is no longer ±1 everywhere.
                EmbeddingUpdate.AdamWStep(new float[rows * d], Gradient(rows * d, 11, 3f), state, new AdamWOptions(1f), new CpuOptions(tier));
                res = bsc
                    ? EmbeddingUpdate.BscAdamWStep(table, gradient, state, new PropagationPlan(graph, new CpuOptions(tier)), b, Layers, new BscWorkspace(rows, d), options)
                    : EmbeddingUpdate.AdamWStep(table, gradient, state, options, new CpuOptions(tier));
                return table;
            }
        }
    }

    private static double Norm(float[] t, int row, int d)
    {
        double sum = 0;
        for (int j = row * d; j < (row + 1) * d; j++)
        {
            sum += (double)t[j] * t[j];
        }
        return Math.Sqrt(sum);
    }

    [Theory]
    [InlineData(float.NaN, true)]
    [InlineData(float.PositiveInfinity, false)]
    [InlineData(float.NegativeInfinity, true)]
    public void A_non_finite_gradient_skips_the_step_and_writes_nothing(float bad, bool bsc)
    {
        const int rows = 20, d = 17;
        CsrMatrix graph = ItemGraph(rows, 3);
        float[] b = StepwiseWeights.Backward(d, 0.2);
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            float[] table = TestGraphs.Table(rows, d, 1);
            var state = new AdamState(rows, d);
            var plan = new PropagationPlan(graph, new CpuOptions(tier));
            var workspace = new BscWorkspace(rows, d);
            var options = new AdamWOptions(1e-2f, WeightDecay: 0.1f);
            UpdateResult Do(float[] g, AdamWOptions o) => bsc
                ? EmbeddingUpdate.BscAdamWStep(table, g, state, plan, b, Layers, workspace, o)
                : EmbeddingUpdate.AdamWStep(table, g, state, o, new CpuOptions(tier));
            Do(Gradient(rows * d, 2, 1f), options); // a normal step first: non-zero moments
            float[] tableBefore = Copy(table), mBefore = Copy(state.M), vBefore = Copy(state.V);
            float[] gradient = Gradient(rows * d, 4, 1f);
            gradient[3 * d + 2] = bad;
            gradient[rows * d - 1] = float.NaN; // the very last element, in a vector tail
            UpdateResult result = Do(gradient, options);
            Assert.True(result.Skipped);
            Assert.Equal(2, result.NonFiniteGradients);
            Assert.Equal(1, result.Step);
            Assert.Equal(1, state.Step);
            ArgumentAssert.Untouched(tableBefore, table, "table");
            ArgumentAssert.Untouched(mBefore, state.M, "m");
            ArgumentAssert.Untouched(vBefore, state.V, "v");

            ArgumentException ex = ArgumentAssert.Throws("gradient", () => Do(gradient, options with { NonFinite = NonFinitePolicy.Throw }));
            ArgumentAssert.NamesIndex(ex, 3 * d + 2, rows * d - 1);
            ArgumentAssert.Untouched(tableBefore, table, "table");
            ArgumentAssert.Untouched(mBefore, state.M, "m");
            Assert.Equal(1, state.Step);

            // Only the last element bad: the scan's scalar tail must see it.
            float[] tailOnly = Gradient(rows * d, 5, 1f);
            tailOnly[^1] = bad;
            Assert.Equal(1, Do(tailOnly, options).NonFiniteGradients);
            ArgumentAssert.Untouched(tableBefore, table, "table");
        }
    }

    [Fact]
    public void An_empty_table_steps_without_touching_memory()
    {
        var state = new AdamState(0, 5);
        UpdateResult result = EmbeddingUpdate.AdamWStep([], [], state, new AdamWOptions(0.1f));
        Assert.Equal(1, result.Step);
        var graph = new CsrMatrix(0, 0, [0], [], []);
        result = EmbeddingUpdate.BscAdamWStep([], [], state, new PropagationPlan(graph), StepwiseWeights.Backward(5, 0.1), Layers, new BscWorkspace(0, 5), new AdamWOptions(0.1f));
        Assert.Equal(2, result.Step);
    }

    public static TheoryData<string> BadOptions() => new()
    {
        "lr0", "lr-", "lrnan", "b1=1", "b1<0", "b1nan", "b2=1", "b2<0", "eps0", "epsinf", "wd<0", "wdnan", "lrwd>1",
        "tau0", "tau-", "taunan", "c0", "cinf", "mode", "policy",
    };

    private static AdamWOptions Bad(string name)
    {
        var ok = new AdamWOptions(1e-3f, WeightDecay: 0.1f);
        return name switch
        {
            "lr0" => ok with { LearningRate = 0f },
            "lr-" => ok with { LearningRate = -1e-3f },
            "lrnan" => ok with { LearningRate = float.NaN },
            "b1=1" => ok with { Beta1 = 1f },
            "b1<0" => ok with { Beta1 = -0.1f },
            "b1nan" => ok with { Beta1 = float.NaN },
            "b2=1" => ok with { Beta2 = 1f },
            "b2<0" => ok with { Beta2 = -1e-3f },
            "eps0" => ok with { Epsilon = 0f },
            "epsinf" => ok with { Epsilon = float.PositiveInfinity },
            "wd<0" => ok with { WeightDecay = -0.1f },
            "wdnan" => ok with { WeightDecay = float.NaN },
            "lrwd>1" => ok with { LearningRate = 2f, WeightDecay = 0.6f },
            "tau0" => ok with { Clip = UpdateClip.RowNorm(0f) },
            "tau-" => ok with { Clip = UpdateClip.RowNorm(-1f) },
            "taunan" => ok with { Clip = UpdateClip.RowNorm(float.NaN) },
            "c0" => ok with { Clip = UpdateClip.Element(0f) },
            "cinf" => ok with { Clip = UpdateClip.Element(float.PositiveInfinity) },
            "mode" => ok with { Clip = new UpdateClip((ClipMode)7, 1f) },
            "policy" => ok with { NonFinite = (NonFinitePolicy)9 },
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_hyperparameters_are_rejected_before_anything_is_written(string name)
    {
        const int rows = 6, d = 5;
        float[] table = ArgumentAssert.Poisoned(rows * d);
        var state = new AdamState(rows, d);
        float[] gradient = Gradient(rows * d, 1, 1f);
        AdamWOptions options = Bad(name);
        ArgumentAssert.Throws("options", () => EmbeddingUpdate.AdamWStep(table, gradient, state, options));
        ArgumentAssert.Throws("options", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, new PropagationPlan(ItemGraph(rows, 1)),
            StepwiseWeights.Backward(d, 0.1), Layers, new BscWorkspace(rows, d), options));
        ArgumentAssert.Untouched(ArgumentAssert.Poisoned(rows * d), table, "table");
        Assert.All(state.M, x => Assert.Equal(0f, x));
        Assert.All(state.V, x => Assert.Equal(0f, x));
        Assert.Equal(0, state.Step);
    }

    [Fact]
    public void Bad_shapes_and_arguments_are_rejected_before_anything_is_written()
    {
        const int rows = 6, d = 5;
        float[] table = ArgumentAssert.Poisoned(rows * d);
        var state = new AdamState(rows, d);
        float[] gradient = Gradient(rows * d, 1, 1f);
        var options = new AdamWOptions(1e-3f);
        var plan = new PropagationPlan(ItemGraph(rows, 1));
        float[] b = StepwiseWeights.Backward(d, 0.1);
        var workspace = new BscWorkspace(rows, d);

        ArgumentAssert.Throws("table", () => EmbeddingUpdate.AdamWStep(table.AsSpan(1), gradient, state, options));
        ArgumentAssert.Throws("gradient", () => EmbeddingUpdate.AdamWStep(table, gradient.AsSpan(0, rows * d - 1), state, options));
        ArgumentAssert.Throws("table", () => EmbeddingUpdate.AdamWStep(table, gradient, new AdamState(rows + 1, d), options));
        ArgumentAssert.Throws("table", () => EmbeddingUpdate.AdamWStep(table, gradient, new AdamState(rows, d + 1), options));
        ArgumentAssert.Throws("state", () => EmbeddingUpdate.AdamWStep(table, gradient, null!, options));
        ArgumentAssert.Throws("options", () => EmbeddingUpdate.AdamWStep(table, gradient, state, null!));
        ArgumentAssert.Throws("gradient", () => EmbeddingUpdate.AdamWStep(table, table, state, options));
        ArgumentAssert.Throws("table", () => EmbeddingUpdate.AdamWStep(state.M, gradient, state, options));
        ArgumentAssert.Throws("gradient", () => EmbeddingUpdate.AdamWStep(table, state.V, state, options));
        ArgumentAssert.Throws("Threads", () => EmbeddingUpdate.AdamWStep(table, gradient, state, options, new CpuOptions(Threads: -1)));

        ArgumentAssert.Throws("graph", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, null!, b, Layers, workspace, options));
        ArgumentAssert.Throws("graph", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, new PropagationPlan(ItemGraph(rows + 1, 1)), b, Layers, workspace, options));
        ArgumentAssert.Throws("graph", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, new PropagationPlan(TestGraphs.RandomPowerLaw(rows, rows + 2, 1)), b, Layers, workspace, options));
        ArgumentAssert.Throws("strengths", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, plan, b.AsSpan(1), Layers, workspace, options));
        float[] badB = Copy(b);
        badB[3] = 1.5f;
        ArgumentAssert.NamesIndex(ArgumentAssert.Throws("strengths", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, plan, badB, Layers, workspace, options)), 3);
        badB[3] = float.NaN;
        ArgumentAssert.Throws("strengths", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, plan, badB, Layers, workspace, options));
        ArgumentAssert.Throws("layers", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, plan, b, -1, workspace, options));
        ArgumentAssert.Throws("workspace", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, plan, b, Layers, null!, options));
        ArgumentAssert.Throws("workspace", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, plan, b, Layers, new BscWorkspace(rows - 1, d), options));
        ArgumentAssert.Throws("workspace", () => EmbeddingUpdate.BscAdamWStep(table, gradient, state, plan, b, Layers, new BscWorkspace(rows, d + 1), options));
        ArgumentAssert.Throws("gradient", () => EmbeddingUpdate.BscAdamWStep(table, gradient.AsSpan(1), state, plan, b, Layers, workspace, options));

        ArgumentAssert.Untouched(ArgumentAssert.Poisoned(rows * d), table, "table");
        Assert.All(state.M, x => Assert.Equal(0f, x));
        Assert.Equal(0, state.Step);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamState(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamState(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BscWorkspace(3, 0));
    }

    [Fact]
    public void Layers_zero_applies_the_raw_update_like_the_plain_step()
    {
        const int rows = 12, d = 33;
        float[] start = TestGraphs.Table(rows, d, 4);
        float[] gradient = Gradient(rows * d, 8, 1f);
        var options = new AdamWOptions(1e-2f, WeightDecay: 0.3f, Clip: UpdateClip.RowNorm(3f));
        float[] a = Copy(start), c = Copy(start);
        var sa = new AdamState(rows, d);
        var sc = new AdamState(rows, d);
        EmbeddingUpdate.AdamWStep(a, gradient, sa, options);
        EmbeddingUpdate.BscAdamWStep(c, gradient, sc, new PropagationPlan(ItemGraph(rows, 2)), StepwiseWeights.Backward(d, 0.1), 0, new BscWorkspace(rows, d), options);
        AssertBitwiseEqual(a, c, "table");
        AssertBitwiseEqual(sa.M, sc.M, "m");
    }
}
