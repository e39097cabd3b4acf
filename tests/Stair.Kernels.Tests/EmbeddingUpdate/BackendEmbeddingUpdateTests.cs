// EmbeddingUpdate through ComputeContext on every backend (CPU always; the ILGPU simulator
// always; OpenCL and CUDA where a device exists): ten consecutive BSC-AdamW / AdamW / Adam
// steps against the float64 reference step by step, state included; the non-finite policy
// on the device; bad arguments rejected before launch. Sizes stay small for the simulator.
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;
using static Stair.Kernels.Tests.Updates.UpdateTestData;

namespace Stair.Kernels.Tests.Updates;

public class BackendEmbeddingUpdateTests
{
    private const int Layers = 3;

    public static TheoryData<Backend, int, string> Cases()
    {
        var data = new TheoryData<Backend, int, string>();
        foreach (Backend backend in new[] { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            data.Add(backend, 1, "bsc");
            data.Add(backend, 7, "bsc-row");
            data.Add(backend, 17, "bsc-element");
            data.Add(backend, 33, "bsc-adam");
            data.Add(backend, 65, "bsc");
            data.Add(backend, 17, "plain");
            data.Add(backend, 33, "plain-row");
            data.Add(backend, 7, "plain-adam-element");
        }
        return data;
    }

    private static AdamWOptions Options(string variant)
    {
        var o = new AdamWOptions(1e-2f, WeightDecay: 0.2f);
        if (variant.Contains("adam", StringComparison.Ordinal))
        {
            o = o with { Decoupled = false, WeightDecay = 0.1f };
        }
        if (variant.EndsWith("row", StringComparison.Ordinal))
        {
            o = o with { Clip = UpdateClip.RowNorm(0.8f) };
        }
        if (variant.EndsWith("element", StringComparison.Ordinal))
        {
            o = o with { Clip = UpdateClip.Element(0.3f) };
        }
        return o;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Ten_steps_match_float64_step_by_step(Backend backend, int d, string variant)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int rows = 29;
        bool bsc = variant.StartsWith("bsc", StringComparison.Ordinal);
        AdamWOptions options = Options(variant);
        CsrMatrix s = ItemGraph(rows, seed: d + 1);
        float[] b = StepwiseWeights.Backward(d, 0.2);
        float[] start = TestGraphs.Table(rows, d, 300 + d);
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable table = context.Upload(start, rows, d);
        using DeviceTable gradient = context.CreateTable(rows, d);
        using DeviceAdamState state = context.CreateAdamState(rows, d);
        using DeviceGraph graph = context.Upload(s);
        using StepwiseFilter filter = context.CreateFilter(b, Layers);
        long clips = 0;
        for (int step = 1; step <= 10; step++)
        {
            float[] g = Gradient(rows * d, 17 * step + d, step % 3 == 0 ? 5f : 0.5f);
            float[] before = table.ToArray(), m = state.M.ToArray(), v = state.V.ToArray();
            AdamReferenceStep expected = bsc
                ? EmbeddingUpdateReference.Step(before, g, m, v, state.Step, d, options, s, b, Layers)
                : EmbeddingUpdateReference.Step(before, g, m, v, state.Step, d, options);
            gradient.Upload(g);
            UpdateResult result = bsc ? context.BscAdamWStep(table, gradient, state, graph, filter, options) : context.AdamWStep(table, gradient, state, options);
            Assert.Equal(step, result.Step);
            Assert.Equal(step, state.Step);
            Assert.False(result.Skipped);
            Assert.Equal(expected.ClippedRows, result.ClippedRows);
            clips += result.ClippedRows;
            double error = expected.MaxScaledError(table.ToArray(), state.M.ToArray(), state.V.ToArray());
            Assert.True(error <= 1, $"{backend} {variant} d={d} step {step}: error {error:G3} × the float32 bound");
        }
        if (options.Clip.Mode != ClipMode.None)
        {
            Assert.True(clips > 0, "the clip variant should clip some rows");
        }
        // The same ten steps again on the same context, from fresh buffers: the same bits (table and state).
        using DeviceTable replay = context.Upload(start, rows, d);
        using DeviceAdamState replayState = context.CreateAdamState(rows, d);
        for (int step = 1; step <= 10; step++)
        {
            gradient.Upload(Gradient(rows * d, 17 * step + d, step % 3 == 0 ? 5f : 0.5f));
            _ = bsc ? context.BscAdamWStep(replay, gradient, replayState, graph, filter, options) : context.AdamWStep(replay, gradient, replayState, options);
        }
        Bits.AssertBitsEqual(table.ToArray(), replay.ToArray(), $"{backend} {variant} d={d}: table after a second run of ten steps");
        Bits.AssertBitsEqual(state.M.ToArray(), replayState.M.ToArray(), $"{backend} {variant} d={d}: m after a second run");
        Bits.AssertBitsEqual(state.V.ToArray(), replayState.V.ToArray(), $"{backend} {variant} d={d}: v after a second run");
    }

    [SkippableTheory]
    [InlineData(Backend.Cpu)]
    [InlineData(Backend.IlgpuCpu)]
    [InlineData(Backend.OpenCL)]
    [InlineData(Backend.Cuda)]
    public void A_non_finite_gradient_skips_the_device_step_and_writes_nothing(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int rows = 12, d = 9;
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable table = context.Upload(TestGraphs.Table(rows, d, 1), rows, d);
        using DeviceTable gradient = context.Upload(Gradient(rows * d, 2, 1f), rows, d);
        using DeviceAdamState state = context.CreateAdamState(rows, d);
        using DeviceGraph graph = context.Upload(ItemGraph(rows, 4));
        using StepwiseFilter filter = context.CreateFilter(StepwiseWeights.Backward(d, 0.2), Layers);
        var options = new AdamWOptions(1e-2f, WeightDecay: 0.1f, Clip: UpdateClip.RowNorm(0.5f));
        context.BscAdamWStep(table, gradient, state, graph, filter, options);
        float[] e = table.ToArray(), m = state.M.ToArray(), v = state.V.ToArray();
        float[] bad = Gradient(rows * d, 3, 1f);
        bad[5 * d + 4] = float.NaN;
        bad[8 * d] = float.PositiveInfinity;
        gradient.Upload(bad);
        foreach (bool smoothed in new[] { true, false })
        {
            UpdateResult result = smoothed ? context.BscAdamWStep(table, gradient, state, graph, filter, options) : context.AdamWStep(table, gradient, state, options);
            Assert.True(result.Skipped);
            Assert.Equal(2, result.NonFiniteGradients);
            Assert.Equal(1, result.Step);
            ArgumentException ex = ArgumentAssert.Throws("gradient", () => context.AdamWStep(table, gradient, state, options with { NonFinite = NonFinitePolicy.Throw }));
            Assert.Contains("row 5", ex.Message, StringComparison.Ordinal);
            ArgumentAssert.Untouched(e, table.ToArray(), "table");
            ArgumentAssert.Untouched(m, state.M.ToArray(), "m");
            ArgumentAssert.Untouched(v, state.V.ToArray(), "v");
            Assert.Equal(1, state.Step);
        }
    }

    [Fact]
    public void Bad_device_arguments_are_rejected_before_launch()
    {
        const int rows = 6, d = 5;
        using ComputeContext context = ComputeContext.Create(Backend.IlgpuCpu);
        using ComputeContext other = ComputeContext.Create(Backend.Cpu);
        using DeviceTable table = context.Upload(ArgumentAssert.Poisoned(rows * d), rows, d);
        using DeviceTable gradient = context.Upload(Gradient(rows * d, 1, 1f), rows, d);
        using DeviceTable wide = context.CreateTable(rows, d + 1);
        using DeviceTable foreign = other.Upload(Gradient(rows * d, 1, 1f), rows, d);
        using DeviceAdamState state = context.CreateAdamState(rows, d);
        using DeviceGraph graph = context.Upload(ItemGraph(rows, 1));
        using DeviceGraph bigger = context.Upload(ItemGraph(rows + 1, 1));
        using StepwiseFilter filter = context.CreateFilter(StepwiseWeights.Backward(d, 0.1), Layers);
        using StepwiseFilter narrow = context.CreateFilter(StepwiseWeights.Backward(d - 1, 0.1), Layers);
        var options = new AdamWOptions(1e-3f);

        ArgumentAssert.Throws("options", () => context.AdamWStep(table, gradient, state, options with { LearningRate = 0f }));
        ArgumentAssert.Throws("options", () => context.BscAdamWStep(table, gradient, state, graph, filter, options with { Beta2 = 1f }));
        ArgumentAssert.Throws("options", () => context.AdamWStep(table, gradient, state, options with { Clip = UpdateClip.RowNorm(0f) }));
        ArgumentAssert.Throws("gradient", () => context.AdamWStep(table, wide, state, options));
        ArgumentAssert.Throws("gradient", () => context.AdamWStep(table, foreign, state, options));
        ArgumentAssert.Throws("gradient", () => context.AdamWStep(table, table, state, options));
        ArgumentAssert.Throws("table", () => context.AdamWStep(state.M, gradient, state, options));
        ArgumentAssert.Throws("graph", () => context.BscAdamWStep(table, gradient, state, bigger, filter, options));
        ArgumentAssert.Throws("filter", () => context.BscAdamWStep(table, gradient, state, graph, narrow, options));
        ArgumentAssert.Untouched(ArgumentAssert.Poisoned(rows * d), table.ToArray(), "table");
        Assert.All(state.M.ToArray(), x => Assert.Equal(0f, x));
        Assert.Equal(0, state.Step);
        state.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.AdamWStep(table, gradient, state, options));
    }
}
