// BPR's and the negative sampler's contracts that the float64 comparisons in BprLossTests and the statistics in
// NegativeSamplerTests do not reach (found by mutation testing, kernels.md "Mutation score"): the separate-table
// overload's argument checks, the options being used, item offsets at both ends, range messages naming the
// table, a fresh thread's first batch with every row distinct, the distributed driver's batch size and loss
// terms, the sampler's stream itself (pinned: checkpoints and runs are reproduced from it), and the parallel
// sampler writing nothing past its output.
using Stair.Kernels.Cpu;
using Stair.Kernels.Cpu.BprLoss;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.BprLoss;

public class BprContractTests
{
    private const int D = 5, Users = 3, Items = 4;

    private static readonly float[] UserTable = TestGraphs.Table(Users, D, seed: 11);
    private static readonly float[] ItemTable = TestGraphs.Table(Items, D, seed: 12);

    private static double Separate(float[] userTable, float[] itemTable, int width, float[] userGradient, float[] itemGradient,
        GradientMode mode = GradientMode.Overwrite, CpuOptions? options = null, int[]? u = null)
        => Stair.Kernels.BprLoss.Compute(userTable, itemTable, width, u ?? [0, 2], [1, 3], [0, 0], userGradient, itemGradient, mode, options);

    [Fact]
    public void The_separate_table_overload_checks_every_argument_before_writing()
    {
        var gu = new float[Users * D];
        var gi = new float[Items * D];
        void Rejected<T>(Func<double> call, string param) where T : ArgumentException
        {
            Array.Fill(gu, 7f);
            Array.Fill(gi, 7f);
            Assert.Equal(param, Assert.Throws<T>(() => call()).ParamName);
            Assert.All(gu, v => Assert.Equal(7f, v));
            Assert.All(gi, v => Assert.Equal(7f, v));
        }
        Rejected<ArgumentOutOfRangeException>(() => Separate(UserTable, ItemTable, D, gu, gi, options: new CpuOptions(Threads: -1)), "Threads");
        Rejected<ArgumentOutOfRangeException>(() => Separate(UserTable, ItemTable, 0, gu, gi), "width");
        Rejected<ArgumentException>(() => Separate(UserTable[..^1], ItemTable, D, gu, gi), "userEmbeddings");
        Rejected<ArgumentException>(() => Separate(UserTable, ItemTable[..^1], D, gu, gi), "itemEmbeddings");
        Rejected<ArgumentException>(() => Separate(UserTable, ItemTable, D, new float[(Users - 1) * D], gi), "userGradient");
        Rejected<ArgumentException>(() => Separate(UserTable, ItemTable, D, gu, new float[(Items + 1) * D]), "itemGradient");
        Rejected<ArgumentOutOfRangeException>(() => Separate(UserTable, ItemTable, D, gu, gi, mode: (GradientMode)7), "mode");
        Rejected<ArgumentOutOfRangeException>(() => Separate(UserTable, ItemTable, D, gu, gi, u: [0, Users]), "users");
        // Each gradient overlapping one other array, the rest apart: the user gradient written over the user
        // table, then over the item table, then sharing elements with the item gradient; the item gradient over
        // either table.
        float[] users = (float[])UserTable.Clone(), items = (float[])ItemTable.Clone();
        var both = new float[(Users + Items) * D];
        void Overlap(Func<double> call, string param)
        {
            Assert.Equal(param, Assert.Throws<ArgumentException>(() => call()).ParamName);
            Assert.Equal(UserTable, users);
            Assert.Equal(ItemTable, items);
        }
        Overlap(() => Separate(users, ItemTable, D, users, gi), "userGradient");
        Overlap(() => Stair.Kernels.BprLoss.Compute(UserTable, items, D, [0], [1], [2], items.AsSpan(0, Users * D), gi), "userGradient");
        Overlap(() => Stair.Kernels.BprLoss.Compute(UserTable, ItemTable, D, [0], [1], [2], both.AsSpan(0, Users * D), both.AsSpan(Users * D - D, Items * D)), "userGradient");
        var big = new float[(Users + Items) * D];
        UserTable.CopyTo(big, 0);
        Overlap(() => Stair.Kernels.BprLoss.Compute(big.AsSpan(0, Users * D), ItemTable, D, [0], [1], [2], gu, big.AsSpan(Users * D - D, Items * D)), "itemGradient");
        Overlap(() => Stair.Kernels.BprLoss.Compute(UserTable, items, D, [0], [1], [2], gu, items), "itemGradient");
    }

    [Fact]
    public void The_one_table_overload_uses_the_options_it_is_given()
    {
        float[] table = [.. UserTable, .. ItemTable];
        Assert.Equal("Threads", Assert.Throws<ArgumentOutOfRangeException>(() => Stair.Kernels.BprLoss.Compute(table, D, Users,
            [0], [1], [2], new float[table.Length], GradientMode.Overwrite, new CpuOptions(Threads: -1))).ParamName);
    }

    [Fact]
    public void Item_offsets_at_both_ends_of_the_table_are_valid()
    {
        float[] table = [.. UserTable, .. ItemTable];
        int rows = Users + Items;
        // Offset 0: every row is an item (no users, so only the empty batch); offset = rows: every row a user.
        var g = TestGraphs.Poisoned(table.Length);
        Assert.Equal(0.0, Stair.Kernels.BprLoss.Compute(table, D, 0, [], [], [], g));
        Assert.All(g, v => Assert.Equal(0f, v));
        g = TestGraphs.Poisoned(table.Length);
        Assert.Equal(0.0, Stair.Kernels.BprLoss.Compute(table, D, rows, [], [], [], g));
        Assert.All(g, v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => Stair.Kernels.BprLoss.Compute(table, D, rows + 1, [], [], [], g));
        Assert.Throws<ArgumentOutOfRangeException>(() => Stair.Kernels.BprLoss.Compute(table, D, -1, [], [], [], g));
    }

    [Fact]
    public void Range_errors_name_the_table_the_index_belongs_to()
    {
        float[] table = [.. UserTable, .. ItemTable];
        var g = new float[table.Length];
        Assert.Contains("; user indices", Assert.Throws<ArgumentOutOfRangeException>(() => Stair.Kernels.BprLoss.Compute(table, D, Users, [0, Users], [0, 0], [1, 1], g)).Message);
        Assert.Contains("; item indices", Assert.Throws<ArgumentOutOfRangeException>(() => Stair.Kernels.BprLoss.Compute(table, D, Users, [0, 1], [0, Items], [1, 1], g)).Message);
        Assert.Contains("; item indices", Assert.Throws<ArgumentOutOfRangeException>(() => Stair.Kernels.BprLoss.Compute(table, D, Users, [0, 1], [0, 0], [1, Items], g)).Message);
    }

    [Fact]
    public void A_fresh_threads_first_batch_with_every_row_distinct_matches_float64()
    {
        // The batch plan's buffers are sized on a thread's first batch; every row distinct fills them: 3 groups per
        // triple, one start per group plus the end.
        float[] table = TestGraphs.Table(Users + Items, D, seed: 5);
        int[] u = [0, 1], p = [0, 1], n = [2, 3];
        BprReferenceResult expected = RecommendationReference.Bpr(table, D, Users, u, p, n);
        float[] gradient = new float[table.Length];
        double loss = 0;
        var thread = new Thread(() => loss = Stair.Kernels.BprLoss.Compute(table, D, Users, u, p, n, gradient, GradientMode.Overwrite, new CpuOptions(Threads: 1)));
        thread.Start();
        thread.Join();
        Assert.True(Math.Abs(loss - expected.Loss) <= expected.LossBound, $"loss {loss} vs {expected.Loss}");
        for (int k = 0; k < gradient.Length; k++)
        {
            Assert.True(Math.Abs(gradient[k] - expected.Gradient[k]) <= expected.GradientBound[k], $"element {k}: {gradient[k]} vs {expected.Gradient[k]}");
        }
    }

    [Fact]
    public unsafe void The_drivers_batch_size_divides_and_its_terms_are_the_triples_losses()
    {
        // A rank of a distributed step passes the whole batch's B: dividing by 2B instead of B halves s, every
        // gradient element and the mean exactly (a power of two), and the terms are each triple's loss, summing
        // to B times the mean.
        float[] table = TestGraphs.Table(Users + Items, D, seed: 8);
        int[] u = [0, 2, 2], p = [1, 3, 0], n = [0, 0, 2];
        var g1 = new float[table.Length];
        var g2 = new float[table.Length];
        var terms = new double[u.Length];
        var driver = new BprLossDriver();
        double mean1, mean2;
        fixed (float* t = table)
        fixed (float* a = g1)
        fixed (float* b = g2)
        {
            long offset = (long)Users * D;
            mean1 = driver.Run(SimdTier.Scalar, 1, t, t + offset, Users, Items, D, u, p, n, a, a + offset, accumulate: false);
            mean2 = driver.Run(SimdTier.Scalar, 1, t, t + offset, Users, Items, D, u, p, n, b, b + offset, accumulate: false,
                batchSize: 2 * u.Length, terms: terms);
        }
        Bits.AssertBitsEqual(mean1 / 2, mean2, "mean over 2B");
        for (int k = 0; k < g1.Length; k++)
        {
            Bits.AssertBitsEqual(g1[k] / 2, g2[k], $"gradient element {k} over 2B");
        }
        BprReferenceResult expected = RecommendationReference.Bpr(table, D, Users, u, p, n);
        Assert.True(Math.Abs(terms.Sum() / u.Length - expected.Loss) <= expected.LossBound, $"terms sum {terms.Sum()} vs {u.Length} × {expected.Loss}");
        Assert.All(terms, t => Assert.True(t > 0 && double.IsFinite(t), $"term {t}"));
    }

    // 32 items: user 0 has 16 (exactly half: the rejection path, at its bound), user 1 has 17 (the binary-search
    // path), user 2 has one, user 3 none.
    private static NegativeSampler EvenSampler()
    {
        int[][] rows = [Enumerable.Range(0, 16).Select(i => 2 * i).ToArray(), Enumerable.Range(0, 17).ToArray(), [31], []];
        var ptr = new int[rows.Length + 1];
        for (int r = 0; r < rows.Length; r++)
        {
            ptr[r + 1] = ptr[r] + rows[r].Length;
        }
        int[] cols = rows.SelectMany(r => r).ToArray();
        return new NegativeSampler(new CsrMatrix(rows.Length, 32, ptr, cols, Enumerable.Repeat(1f, cols.Length).ToArray()));
    }

    [Fact]
    public void The_sampler_stream_is_pinned()
    {
        // Recorded from the implementation (SplitMix64 of seed ⊕ mix(position); rejection while a user holds at
        // most half the items, else the r-th allowed item). A change here changes every run's negatives, so it
        // must be deliberate and recorded anew.
        NegativeSampler sampler = EvenSampler();
        int[] users = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3];
        var negatives = new int[users.Length];
        sampler.Sample(users, negatives, seed: 20261207, offset: 3);
        Assert.Equal(PinnedStream, negatives);
        for (int k = 0; k < users.Length; k++)
        {
            Assert.Equal(negatives[k], sampler.Sample(users[k], 20261207, 3 + k));
        }
    }

    private static readonly int[] PinnedStream = [27, 11, 25, 29, 28, 21, 22, 26, 15, 11, 24, 17];

    [Fact]
    public void Degree_rejects_users_outside_the_table_by_name()
    {
        NegativeSampler sampler = EvenSampler();
        Assert.Equal(16, sampler.Degree(0));
        Assert.Equal(0, sampler.Degree(3));
        Assert.Equal(4, Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Degree(4)).ActualValue);
        Assert.Equal(-1, Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Degree(-1)).ActualValue);
    }

    [Fact]
    public void The_parallel_sampler_writes_nothing_past_its_output()
    {
        // 20,000 users take the pooled path (parts of 4,096); the output is a window of a larger array whose
        // neighbours must keep their sentinels, and the result equals one-at-a-time draws.
        NegativeSampler sampler = EvenSampler();
        const int n = 20_000;
        int[] users = Enumerable.Range(0, n + 1).Select(k => k % 4).ToArray();
        var buffer = new int[n + 2];
        Array.Fill(buffer, -5);
        sampler.Sample(users.AsSpan(0, n), buffer.AsSpan(1, n), seed: 3, offset: 0);
        Assert.Equal(-5, buffer[0]);
        Assert.Equal(-5, buffer[n + 1]);
        for (int k = 0; k < n; k += 997)
        {
            Assert.Equal(sampler.Sample(users[k], 3, k), buffer[1 + k]);
        }
    }
    [Theory]
    [InlineData(GradientMode.Overwrite)]
    [InlineData(GradientMode.Accumulate)]
    public void The_CPU_context_gives_the_direct_calls_bits(GradientMode mode)
    {
        // The CPU backend behind ComputeContext runs the same driver with the context's tier and threads: the loss
        // and every gradient element must be the direct call's, in both modes (accumulate onto a non-zero table).
        const int users = 13, items = 11, d = 19;
        var options = new CpuOptions(Threads: 2);
        float[] table = TestGraphs.Table(users + items, d, seed: 8);
        float[] start = TestGraphs.Table(users + items, d, seed: 9);
        (int[] u, int[] p, int[] n) = BprLossTests.Batch(70, users, items, seed: 10);
        float[] expected = (float[])start.Clone();
        double expectedLoss = Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, expected, mode, options);

        using ComputeContext context = ComputeContext.Create(Backend.Cpu, options);
        using DeviceTable e = context.Upload(table, users + items, d);
        using DeviceTable g = context.Upload(start, users + items, d);
        double loss = context.ComputeBprLoss(e, users, u, p, n, g, mode);
        Bits.AssertBitsEqual(expectedLoss, loss, $"loss, {mode}");
        Bits.AssertBitsEqual(expected, g.ToArray(), $"gradient, {mode}");
    }
}
