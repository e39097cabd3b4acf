// The device entry points of EmbeddingUpdate (ComputeContext.AdamWStep / BscAdamWStep) on
// every backend: ten consecutive steps against the float64 reference step by step, state
// included, on row views of one model table (as a trainer uses them); the non-finite policy
// on the device; and bad calls rejected before anything is written.
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
            data.Add(backend, 7, "bsc");
            data.Add(backend, 33, "bsc-row");
            data.Add(backend, 17, "plain-element");
            data.Add(backend, 5, "adam");
        }
        return data;
    }

    private static AdamWOptions Options(string variant) => variant switch
    {
        "bsc-row" => new AdamWOptions(1e-2f, WeightDecay: 0.2f, Clip: UpdateClip.RowNorm(0.8f)),
        "plain-element" => new AdamWOptions(1e-2f, WeightDecay: 0.2f, Clip: UpdateClip.Element(0.3f)),
        "adam" => new AdamWOptions(1e-2f, WeightDecay: 0.1f, Decoupled: false),
        _ => new AdamWOptions(1e-2f, WeightDecay: 0.2f),
    };

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Ten_steps_on_row_views_match_float64_step_by_step(Backend backend, int d, string variant)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int users = 9, items = 41;
        bool bsc = variant.StartsWith("bsc", StringComparison.Ordinal);
        AdamWOptions options = Options(variant);
        CsrMatrix graph = ItemGraph(items, seed: d);
        float[] b = StepwiseWeights.Backward(d, 0.2);
        float[] table = TestGraphs.Table(users + items, d, seed: 300 + d);
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable model = context.Upload(table, users + items, d);
        using DeviceTable gradients = context.CreateTable(users + items, d);
        DeviceTable itemRows = model.Slice(users, items), itemGradient = gradients.Slice(users, items);
        using DeviceAdamState state = context.CreateAdamState(items, d);
        using DeviceGraph s = context.Upload(graph);
        using StepwiseFilter filter = context.CreateFilter(b, Layers);
        float[] e = table.AsSpan(users * d).ToArray(), m = new float[items * d], v = new float[items * d];
        for (int step = 1; step <= 10; step++)
        {
            float[] g = Gradient(items * d, seed: 17 * step + d, scale: step % 3 == 0 ? 5f : 0.5f);
            float[] poisonedUsers = TestGraphs.Poisoned(users * d);
            gradients.Upload([.. poisonedUsers, .. g]); // the user rows' gradient must never be read
            AdamReferenceStep expected = EmbeddingUpdateReference.Step(e, g, m, v, step - 1, d, options, bsc ? graph : null, b, bsc ? Layers : 0);
            UpdateResult result = bsc
                ? context.BscAdamWStep(itemRows, itemGradient, state, s, filter, options)
                : context.AdamWStep(itemRows, itemGradient, state, options);
            Assert.Equal(step, result.Step);
            Assert.Equal(step, state.Step);
            Assert.False(result.Skipped);
            Assert.Equal(expected.ClippedRows, result.ClippedRows);
            float[] all = model.ToArray();
            Assert.Equal(table.AsSpan(0, users * d).ToArray(), all.AsSpan(0, users * d).ToArray()); // user rows untouched
            e = all.AsSpan(users * d).ToArray();
            (m, v) = state.DownloadMoments();
            // The bound counts each rounding of the CPU's sequence; ILGPU multiplies and adds where the CPU fuses,
            // one extra rounding per fused operation, so twice the bound covers both.
            double error = expected.MaxScaledError(e, m, v);
            Assert.True(error <= (backend == Backend.Cpu ? 1 : 2), $"{backend} step {step}: error {error:G3} × the float32 bound");
        }
    }

    [SkippableTheory]
    [InlineData(Backend.Cpu)]
    [InlineData(Backend.IlgpuCpu)]
    [InlineData(Backend.OpenCL)]
    [InlineData(Backend.Cuda)]
    public void A_non_finite_gradient_skips_the_step_on_the_device_or_throws(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int rows = 12, d = 6;
        using ComputeContext context = ComputeContext.Create(backend);
        float[] start = TestGraphs.Table(rows, d, seed: 5);
        using DeviceTable table = context.Upload(start, rows, d);
        float[] g = Gradient(rows * d, seed: 9, scale: 1f);
        using DeviceTable gradient = context.Upload(g, rows, d);
        using DeviceAdamState state = context.CreateAdamState(rows, d);
        using DeviceGraph graph = context.Upload(ItemGraph(rows, seed: 2));
        using StepwiseFilter filter = context.CreateFilter(StepwiseWeights.Backward(d, 0.3), Layers);
        var options = new AdamWOptions(1e-2f, WeightDecay: 0.1f);
        Assert.Equal(1, context.AdamWStep(table, gradient, state, options).Step);
        float[] before = table.ToArray();
        (float[] m0, float[] v0) = state.DownloadMoments();
        g[17] = float.NaN;
        g[40] = float.PositiveInfinity;
        gradient.Upload(g);
        foreach (bool bsc in new[] { false, true })
        {
            UpdateResult skipped = bsc ? context.BscAdamWStep(table, gradient, state, graph, filter, options) : context.AdamWStep(table, gradient, state, options);
            Assert.True(skipped.Skipped);
            Assert.Equal(2, skipped.NonFiniteGradients);
            Assert.Equal(1, skipped.Step);
            Assert.Equal(1, state.Step);
            AssertBitwiseEqual(before, table.ToArray(), "table after a skipped step");
            (float[] m1, float[] v1) = state.DownloadMoments();
            AssertBitwiseEqual(m0, m1, "m after a skipped step");
            AssertBitwiseEqual(v0, v1, "v after a skipped step");
        }
        Assert.Throws<ArgumentException>(() => context.AdamWStep(table, gradient, state, options with { NonFinite = NonFinitePolicy.Throw }));
        AssertBitwiseEqual(before, table.ToArray(), "table after a refused step");
    }

    [SkippableTheory]
    [InlineData(Backend.Cpu)]
    [InlineData(Backend.OpenCL)]
    public void Bad_calls_are_rejected_before_anything_is_written(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int rows = 10, d = 4;
        using ComputeContext context = ComputeContext.Create(backend);
        using ComputeContext other = ComputeContext.Create(Backend.Cpu);
        float[] start = TestGraphs.Table(2 * rows, d, seed: 1);
        using DeviceTable both = context.Upload(start, 2 * rows, d);
        DeviceTable table = both.Slice(0, rows);
        using DeviceTable gradient = context.Upload(Gradient(rows * d, 3, 1f), rows, d);
        using DeviceTable narrow = context.CreateTable(rows, d + 1);
        using DeviceTable foreign = other.CreateTable(rows, d);
        using DeviceAdamState state = context.CreateAdamState(rows, d);
        using DeviceAdamState wrongRows = context.CreateAdamState(rows + 1, d);
        using DeviceGraph graph = context.Upload(ItemGraph(rows, seed: 4));
        using DeviceGraph bigGraph = context.Upload(ItemGraph(rows + 2, seed: 4));
        using StepwiseFilter filter = context.CreateFilter(StepwiseWeights.Backward(d, 0.3), Layers);
        using StepwiseFilter wideFilter = context.CreateFilter(StepwiseWeights.Backward(d + 1, 0.3), Layers);
        var options = new AdamWOptions(1e-2f);

        Assert.Equal("options", Assert.Throws<ArgumentException>(() => context.AdamWStep(table, gradient, state, options with { LearningRate = 0 })).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => context.AdamWStep(table, gradient, state, options with { Beta2 = 1 })).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => context.AdamWStep(table, narrow, state, options)).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => context.AdamWStep(table, foreign, state, options)).ParamName);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => context.AdamWStep(table, gradient, wrongRows, options)).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => context.AdamWStep(table, both.Slice(5, rows), state, options)).ParamName);
        Assert.Equal("graph", Assert.Throws<ArgumentException>(() => context.BscAdamWStep(table, gradient, state, bigGraph, filter, options)).ParamName);
        Assert.Equal("filter", Assert.Throws<ArgumentException>(() => context.BscAdamWStep(table, gradient, state, graph, wideFilter, options)).ParamName);
        AssertBitwiseEqual(start, both.ToArray(), "table after refused calls");
        Assert.Equal(0, state.Step);
    }
}
