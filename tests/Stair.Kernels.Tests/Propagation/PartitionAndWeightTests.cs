// The contracts behind propagation that the float64 comparisons cannot see, because every
// partition and every rounding of a layer weight gives the same products (found by mutation
// testing, kernels.md "Mutation score"): the row partition covers every row once with parts of about
// equal cost, and the FSC layer weights are βˡ / Σ βⁱ exactly as kernels.md states them.
using Stair.Kernels.Cpu.Propagation;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Propagation;

public class PartitionAndWeightTests
{
    // The cost model of RowPartition: a row costs its stored entries plus a charge of 2 for its output row.
    private static long CostBefore(ReadOnlySpan<long> ptr, int row) => ptr[row] + 2L * row;

    public static TheoryData<string, int> GraphsAndThreads()
    {
        var data = new TheoryData<string, int>();
        foreach (string graph in new[] { "powerlaw", "adjacency", "hub", "empty", "single" })
        {
            foreach (int threads in new[] { 1, 2, 3, 8 })
            {
                data.Add(graph, threads);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GraphsAndThreads))]
    public void Row_partition_covers_every_row_once_in_parts_of_about_equal_cost(string graph, int threads)
    {
        CsrMatrix a = TestGraphs.Square(graph);
        long[] ptr = a.RowOffsets.ToArray();
        int rows = a.Rows;
        int[] bounds = RowPartition.Build(ptr, threads);

        int expectedParts = threads == 1 ? 1 : Math.Max(1, Math.Min(4 * threads, rows));
        Assert.Equal(expectedParts + 1, bounds.Length);
        Assert.Equal(0, bounds[0]);
        Assert.Equal(rows, bounds[^1]);
        long total = CostBefore(ptr, rows);
        long heaviestRow = 0;
        for (int r = 0; r < rows; r++)
        {
            heaviestRow = Math.Max(heaviestRow, CostBefore(ptr, r + 1) - CostBefore(ptr, r));
        }
        for (int p = 1; p <= expectedParts; p++)
        {
            Assert.True(bounds[p - 1] <= bounds[p], $"{graph}: bounds {string.Join(",", bounds)} are not ordered");
            long cost = CostBefore(ptr, bounds[p]) - CostBefore(ptr, bounds[p - 1]);
            Assert.True(cost <= total / expectedParts + heaviestRow + 1,
                $"{graph}, {threads} threads: part {p - 1} costs {cost} of {total} (heaviest row {heaviestRow}); bounds {string.Join(",", bounds)}");
        }
    }

    [Fact]
    public void Row_partition_boundaries_are_the_first_rows_reaching_each_share_of_the_cost()
    {
        // Rows with 5, 0, 0, 1, 7, 0, 2, 3 entries: costs 7, 2, 2, 3, 9, 2, 4, 5 (total 34).
        long[] ptr = [0, 5, 5, 5, 6, 13, 13, 15, 18];
        int[] bounds = RowPartition.Split(ptr, 4);
        long total = CostBefore(ptr, 8);
        Assert.Equal(34, total);
        for (int p = 1; p < 4; p++)
        {
            long target = total * p / 4;
            int expected = Enumerable.Range(0, 9).First(r => CostBefore(ptr, r) >= target);
            Assert.Equal(expected, bounds[p]);
        }
        Assert.Equal([0, 2, 5, 6, 8], bounds);

        // More parts than rows: the surplus parts are empty, every row still in exactly one part.
        Assert.Equal([0, 1, 1, 1, 2], RowPartition.Split([0, 4, 4], 4));
    }

    [Theory]
    [InlineData(0.0, 3)]
    [InlineData(0.35, 1)]
    [InlineData(0.35, 4)]
    [InlineData(0.9, 2)]
    [InlineData(1.0, 3)]
    public void Layer_weights_are_beta_powers_over_their_sum(double beta, int layers)
    {
        double sum = 0;
        for (int l = 0; l <= layers; l++)
        {
            double closedForm = beta == 1.0 ? 1.0 / (layers + 1) : (1 - beta) * Math.Pow(beta, l) / (1 - Math.Pow(beta, layers + 1));
            double w = StepwiseWeights.LayerWeight(beta, l, layers);
            Assert.Equal(closedForm, w, 1e-15);
            sum += w;
        }
        Assert.Equal(1.0, sum, 1e-15);

        float[] scale = new float[3];
        StepwiseWeights.FinalScale([(float)beta, 0f, 1f], layers, scale);
        Assert.Equal((float)StepwiseWeights.LayerWeight((float)beta, 0, layers), scale[0]);
        Assert.Equal(1f, scale[1]);
        Assert.Equal((float)(1.0 / (layers + 1)), scale[2]);
    }

    [Fact]
    public void Backward_strengths_at_gamma_zero_are_all_one()
    {
        Assert.All(StepwiseWeights.Backward(5, 0), b => Assert.Equal(1f, b));
        Assert.All(StepwiseWeights.Forward(5, 0), b => Assert.Equal(0f, b));
        Assert.Equal([0.1f, (float)(0.1 + 0.9 * 0.5)], StepwiseWeights.Backward(2, 1));
    }
}
