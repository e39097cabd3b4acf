// The propagation entry points that only the distributed driver and the ComputeContext CPU backend call
// (found by mutation testing, kernels.md "Mutation score"): Propagation.LayerUnchecked, one product layer
// over raw tables, must give the single-process SpMM and FSC bits when its layers are chained, on
// square and rectangular (forward-only) plans; the CPU backend must give Propagation's bits through
// every workspace change (a larger graph, another width, a smaller graph after a larger one) and for
// each layer mode. Bits, not tolerances: both sides run the same row loop and epilogues.
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Propagation;

public class LayerContractTests
{
    public static TheoryData<SimdTier, string, int, int> Cases()
    {
        var data = new TheoryData<SimdTier, string, int, int>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (string graph in TestGraphs.SquareCases)
            {
                foreach (int d in new[] { 1, 7, 19, 33 })
                {
                    foreach (int threads in new[] { 1, 2 })
                    {
                        data.Add(tier, graph, d, threads);
                    }
                }
            }
        }
        return data;
    }

    private static float[] Beta(int d)
    {
        var beta = new float[d];
        for (int j = 0; j < d; j++)
        {
            beta[j] = 0.15f + 0.7f * j / Math.Max(1, d - 1);
        }
        return beta;
    }

    private static unsafe void Layer(PropagationPlan plan, float[] input, float[] output, float[]? seed, float[]? beta, float[]? scale,
        int width, Kernels.Propagation.LayerMode mode)
    {
        fixed (float* x = input, y = output, e = seed, b = beta, c = scale)
        {
            Kernels.Propagation.LayerUnchecked(plan, x, y, e, b, c, width, mode);
        }
    }

    /// <summary>FSC as the distributed driver runs it: L − 1 inner layers through two tables, then the last into the output.</summary>
    private static float[] FscByLayers(PropagationPlan plan, float[] e, float[] beta, int layers, int d)
    {
        int n = plan.Matrix.Rows;
        var scale = new float[d];
        StepwiseWeights.FinalScale(beta, layers, scale);
        float[] source = e;
        for (int l = 1; l <= layers; l++)
        {
            bool last = l == layers;
            float[] target = TestGraphs.Poisoned(n * d);
            Layer(plan, source, target, e, beta, scale, d, last ? Kernels.Propagation.LayerMode.Last : Kernels.Propagation.LayerMode.Inner);
            source = target;
        }
        return source;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Chained_layers_give_the_SpMM_and_FSC_bits(SimdTier tier, string graph, int d, int threads)
    {
        CsrMatrix a = TestGraphs.Square(graph);
        var plan = new PropagationPlan(a, new CpuOptions(tier, threads));
        float[] x = TestGraphs.Table(a.Columns, d, seed: 11 + d);
        float[] beta = Beta(d);
        string what = $"{tier} {graph} d={d} threads={threads}";

        float[] spmm = TestGraphs.Poisoned(a.Rows * d);
        Kernels.Propagation.Spmm(plan, x, spmm, d);
        float[] store = TestGraphs.Poisoned(a.Rows * d);
        Layer(plan, x, store, seed: null, beta: null, scale: null, d, Kernels.Propagation.LayerMode.Store);
        Bits.AssertBitsEqual(spmm, store, $"Store layer against SpMM, {what}");

        foreach (int layers in new[] { 1, 3 })
        {
            float[] fsc = TestGraphs.Poisoned(a.Rows * d);
            Kernels.Propagation.Fsc(plan, x, fsc, d, layers, beta, new PropagationWorkspace(a.Rows, d));
            Bits.AssertBitsEqual(fsc, FscByLayers(plan, x, beta, layers, d), $"FSC by {layers} layer(s), {what}");
        }
    }

    [Fact]
    public void Inner_and_last_layers_are_the_weighted_step_and_its_scaled_form()
    {
        // Two rows, one entry each: y₀ = 2·x₁, y₁ = 0.5·x₀. Inner: fma(acc, β, e); last: fma(acc, β, e)·c.
        CsrMatrix a = new CsrMatrix(2, 2, [0, 1, 2], [1, 0], [2f, 0.5f]);
        var plan = new PropagationPlan(a, new CpuOptions(SimdTier.Scalar, 1));
        float[] x = [3f, 5f], e = [1f, -1f], beta = [0.25f], scale = [4f];

        float[] y = TestGraphs.Poisoned(2);
        Layer(plan, x, y, e, beta, scale, 1, Kernels.Propagation.LayerMode.Store);
        Bits.AssertBitsEqual([10f, 1.5f], y, "store");
        Layer(plan, x, y, e, beta, scale, 1, Kernels.Propagation.LayerMode.Inner);
        Bits.AssertBitsEqual([1f + 0.25f * 10f, -1f + 0.25f * 1.5f], y, "inner");
        Layer(plan, x, y, e, beta, scale, 1, Kernels.Propagation.LayerMode.Last);
        Bits.AssertBitsEqual([4f * (1f + 0.25f * 10f), 4f * (-1f + 0.25f * 1.5f)], y, "last");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_rectangular_forward_only_block_gives_the_SpMM_bits_of_the_full_plan(int threads)
    {
        // A rank's block: 40 of its rows against all 90 columns, with empty rows and a hub row.
        CsrMatrix block = TestGraphs.WithHub(TestGraphs.RandomPowerLaw(40, 90, seed: 5));
        const int d = 13;
        float[] x = TestGraphs.Table(block.Columns, d, seed: 3);
        float[] expected = TestGraphs.Poisoned(block.Rows * d);
        Kernels.Propagation.Spmm(new PropagationPlan(block, new CpuOptions(Threads: threads)), x, expected, d);

        var forwardOnly = new PropagationPlan(block, new CpuOptions(Threads: threads), forwardOnly: true);
        float[] actual = TestGraphs.Poisoned(block.Rows * d);
        Layer(forwardOnly, x, actual, null, null, null, d, Kernels.Propagation.LayerMode.Store);
        Bits.AssertBitsEqual(expected, actual, $"forward-only block, {threads} threads");
        Assert.Throws<InvalidOperationException>(() => forwardOnly.Select(transpose: true));
    }

    [Fact]
    public void A_plan_without_rows_writes_nothing()
    {
        CsrMatrix empty = new CsrMatrix(0, 4, [0], [], []);
        var plan = new PropagationPlan(empty, new CpuOptions(Threads: 2), forwardOnly: true);
        float[] x = TestGraphs.Table(4, 3, seed: 1);
        float[] y = TestGraphs.Poisoned(6);
        float[] before = (float[])y.Clone();
        Layer(plan, x, y, x, [0.5f, 0.5f, 0.5f], [1f, 1f, 1f], 3, Kernels.Propagation.LayerMode.Last);
        Bits.AssertBitsEqual(before, y, "output of a plan without rows");
    }

    [Fact]
    public void The_CPU_backend_gives_Propagations_bits_through_every_workspace_change()
    {
        // Graph and width sequence: first use, a larger graph (workspace too small), the same graph at another
        // width (workspace of the wrong width), a smaller graph at that width (workspace reused), the first again.
        (string Graph, int Width)[] steps = [("single", 5), ("powerlaw", 5), ("powerlaw", 17), ("hub", 17), ("single", 5), ("adjacency", 1)];
        using ComputeContext context = ComputeContext.Create(Backend.Cpu, new CpuOptions(Threads: 2));
        foreach ((string name, int d) in steps)
        {
            CsrMatrix a = TestGraphs.Square(name);
            float[] beta = Beta(d);
            float[] x = TestGraphs.Table(a.Rows, d, seed: d + a.Rows);
            var plan = new PropagationPlan(a, new CpuOptions(Threads: 2));
            foreach (bool backward in new[] { false, true })
            {
                float[] expected = TestGraphs.Poisoned(a.Rows * d);
                if (backward)
                {
                    Kernels.Propagation.FscBackward(plan, x, expected, d, 3, beta, new PropagationWorkspace(a.Rows, d));
                }
                else
                {
                    Kernels.Propagation.Fsc(plan, x, expected, d, 3, beta, new PropagationWorkspace(a.Rows, d));
                }

                using DeviceGraph graph = context.Upload(a);
                using StepwiseFilter filter = context.CreateFilter(beta, 3);
                using DeviceTable input = context.Upload(x, a.Rows, d);
                using DeviceTable output = context.Upload(TestGraphs.Poisoned(a.Rows * d), a.Rows, d);
                context.FscOrBackward(graph, input, output, filter, backward);
                Bits.AssertBitsEqual(expected, output.ToArray(), $"CPU backend FSC{(backward ? " backward" : "")} on {name}, d={d}");
            }
        }
    }

    [Theory]
    [InlineData("powerlaw", 9)]
    [InlineData("hub", 16)]
    [InlineData("empty", 3)]
    public void The_CPU_backends_layer_is_the_direct_layer(string name, int d)
    {
        CsrMatrix a = TestGraphs.Square(name);
        var options = new CpuOptions(Threads: 2);
        var plan = new PropagationPlan(a, options, forwardOnly: true);
        float[] x = TestGraphs.Table(a.Rows, d, seed: 2);
        float[] e = TestGraphs.Table(a.Rows, d, seed: 4);
        float[] beta = Beta(d);
        using ComputeContext context = ComputeContext.Create(Backend.Cpu, options);
        using DeviceGraph graph = context.UploadPlan(plan);
        using StepwiseFilter filter = context.CreateFilter(beta, 2);
        using DeviceTable input = context.Upload(x, a.Rows, d);
        using DeviceTable seed = context.Upload(e, a.Rows, d);
        foreach (Kernels.Propagation.LayerMode mode in Enum.GetValues<Kernels.Propagation.LayerMode>())
        {
            float[] expected = TestGraphs.Poisoned(a.Rows * d);
            Layer(plan, x, expected, e, beta, filter.Scale, d, mode);
            using DeviceTable output = context.Upload(TestGraphs.Poisoned(a.Rows * d), a.Rows, d);
            context.LayerUnchecked(graph, input, output, seed, mode == Kernels.Propagation.LayerMode.Store ? null : filter, mode);
            Bits.AssertBitsEqual(expected, output.ToArray(), $"CPU backend layer {mode} on {name}, d={d}");
        }
    }
}
