// Ranking's argument and edge-case contracts that the top-K and metric comparisons do not reach
// (found by mutation testing, kernels.md "Mutation score"): every public entry rejects a null or bad
// argument with the documented exception (not a NullReferenceException further in), K = items is a
// valid cut-off, metrics over users without relevant items are 0 (never NaN), and asking for a K
// that was not evaluated names it.
namespace Stair.Kernels.Tests.Ranking;

public class RankingContractTests
{
    private const int Users = 4, Items = 5, D = 3;

    private static CsrMatrix Sets(params int[][] rows)
    {
        var ptr = new int[rows.Length + 1];
        for (int u = 0; u < rows.Length; u++)
        {
            ptr[u + 1] = ptr[u] + rows[u].Length;
        }
        int[] cols = rows.SelectMany(r => r).ToArray();
        return new CsrMatrix(rows.Length, Items, ptr, cols, Enumerable.Repeat(1f, cols.Length).ToArray());
    }

    private static readonly float[] U = RankingTests.IntegerTable(Users, D, 1);
    private static readonly float[] I = RankingTests.IntegerTable(Items, D, 2);

    [Fact]
    public void Null_and_mismatched_arguments_are_rejected_before_any_work()
    {
        CsrMatrix sets = Sets([0], [1, 2], [], [4]);
        var targets = new RankingTargets(sets, sets);
        Assert.Throws<ArgumentNullException>(() => new RankingTargets(sets, null!));
        Assert.Throws<ArgumentNullException>(() => new RankingTargets(null!, sets));
        Assert.Throws<ArgumentNullException>(() => Kernels.Ranking.TopK(U, I, D, null!, 2, new int[Users * 2]));
        Assert.Throws<ArgumentNullException>(() => Kernels.Ranking.Evaluate(U, I, D, null!, [1]));
        Assert.Throws<ArgumentException>(() => Kernels.Ranking.Evaluate(U.AsSpan(0, (Users - 1) * D), I, D, targets, [1]));
        Assert.Throws<ArgumentException>(() => Kernels.Ranking.Evaluate(U, I.AsSpan(1), D, targets, [1]));
    }

    [Fact]
    public void Invalid_options_are_rejected_and_null_options_mean_the_defaults()
    {
        CsrMatrix sets = Sets([0], [1, 2], [], [4]);
        var targets = new RankingTargets(sets, sets);
        var bad = new CpuOptions(Threads: -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.Ranking.TopK(U, I, D, sets, 2, new int[Users * 2], bad));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.Ranking.Evaluate(U, I, D, targets, [1], bad));

        var withDefaults = new int[Users * 2];
        var explicitOne = new int[Users * 2];
        Kernels.Ranking.TopK(U, I, D, sets, 2, withDefaults);
        Kernels.Ranking.TopK(U, I, D, sets, 2, explicitOne, new CpuOptions(SimdTier.Scalar, 1));
        Assert.Equal(explicitOne, withDefaults);
    }

    [Fact]
    public void K_may_equal_the_item_count_and_a_k_not_evaluated_is_named()
    {
        CsrMatrix none = Sets([], [], [], []);
        CsrMatrix relevant = Sets([0], [1, 2], [], [4]);
        RankingMetrics m = Kernels.Ranking.Evaluate(U, I, D, new RankingTargets(none, relevant), [Items, 1]);
        Assert.Equal(1.0, m.RecallAt(Items), 12); // every item is in the list of length K = items
        Assert.InRange(m.NdcgAt(Items), 1e-9, 1.0);
        Assert.Equal(3, m.UsersEvaluated);
        Assert.Equal(1, m.UsersSkipped);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => m.RecallAt(2));
        Assert.Equal("k", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.NdcgAt(3));
    }

    [Fact]
    public void Metrics_over_users_without_relevant_items_are_zero_not_nan()
    {
        CsrMatrix none = Sets([], [], [], []);
        RankingMetrics m = Kernels.Ranking.Evaluate(U, I, D, new RankingTargets(none, none), [1, 3]);
        Assert.Equal(0, m.UsersEvaluated);
        Assert.Equal(Users, m.UsersSkipped);
        Assert.Equal([0.0, 0.0], m.Recall);
        Assert.Equal([0.0, 0.0], m.Ndcg);
    }
    [Fact]
    public void Item_sets_hold_each_users_distinct_items_sorted()
    {
        // Unsorted rows with repeats, an empty row and a full one: each row sorted and duplicate-free, counted as such.
        var sets = new ItemSets(Sets([3, 1, 3, 0], [], [4, 4, 4], [0, 1, 2, 3, 4]), "sets");
        Assert.Equal(4, sets.Users);
        Assert.Equal(Items, sets.Items);
        Assert.Equal([3, 0, 1, 5], Enumerable.Range(0, 4).Select(sets.Count).ToArray());
        Assert.Equal([0, 1, 3], sets.Row(0).ToArray());
        Assert.Empty(sets.Row(1).ToArray());
        Assert.Equal([4], sets.Row(2).ToArray());
        Assert.Equal([0, 1, 2, 3, 4], sets.Row(3).ToArray());
        Assert.Equal(9, sets.Pointers[^1]);
        Assert.Throws<ArgumentNullException>("sets", () => new ItemSets(null!, "sets"));
    }
}
