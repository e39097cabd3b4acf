// Ranking on the CPU: top-K against a full float64 sort (integer embeddings make every score
// exact, so ties are real and must go to the lower item index), every tier and thread count
// identical, Recall/NDCG on a hand-computed case and against the reference, bad input rejected.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Ranking;

public class RankingTests
{
    /// <summary>Small-integer embeddings: every dot product is exact in float32, so many scores tie.</summary>
    internal static float[] IntegerTable(int rows, int width, int seed)
    {
        var rng = new Random(seed);
        var t = new float[rows * width];
        for (int k = 0; k < t.Length; k++)
        {
            t[k] = rng.Next(-2, 3);
        }
        return t;
    }

    /// <summary>Users × items sets: user u gets about density·items random items; user 0 all but two, user 1 none.</summary>
    internal static CsrMatrix RandomSets(int users, int items, double density, int seed)
    {
        var rng = new Random(seed);
        var ptr = new List<int> { 0 };
        var cols = new List<int>();
        for (int u = 0; u < users; u++)
        {
            for (int i = 0; i < items; i++)
            {
                bool take = u == 0 ? i >= 2 : u != 1 && rng.NextDouble() < density;
                if (take)
                {
                    cols.Add(i);
                }
            }
            ptr.Add(cols.Count);
        }
        return new CsrMatrix(users, items, ptr.ToArray(), cols.ToArray(), Enumerable.Repeat(1f, cols.Count).ToArray());
    }

    public static TheoryData<int, int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach ((int users, int items, int d, int k) in new[] { (1, 1, 1, 1), (5, 17, 7, 3), (130, 100, 33, 10), (200, 333, 64, 50), (97, 40, 16, 40) })
        {
            data.Add(users, items, d, k);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Top_k_matches_a_full_sort_with_ties_to_the_lower_index_on_every_tier(int users, int items, int d, int k)
    {
        float[] u = IntegerTable(users, d, seed: users + d);
        float[] i = IntegerTable(items, d, seed: items + k);
        CsrMatrix excluded = RandomSets(users, items, 0.1, seed: k);
        int[] expected = RecommendationReference.TopK(u, i, d, excluded, k);
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in new[] { 1, 2 })
            {
                int[] result = Enumerable.Repeat(-99, users * k).ToArray();
                Stair.Kernels.Ranking.TopK(u, i, d, excluded, k, result, new CpuOptions(tier, threads));
                Assert.Equal(expected, result);
            }
        }
    }

    [Fact]
    public void Every_tier_and_thread_count_ranks_random_embeddings_identically()
    {
        const int users = 250, items = 301, d = 65, k = 20;
        float[] u = TestGraphs.Table(users, d, seed: 1), i = TestGraphs.Table(items, d, seed: 2);
        CsrMatrix excluded = RandomSets(users, items, 0.05, seed: 3);
        int[]? first = null;
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var result = new int[users * k];
                Stair.Kernels.Ranking.TopK(u, i, d, excluded, k, result, new CpuOptions(tier, threads));
                first ??= result;
                Assert.Equal(first, result);
            }
        }
        // Random floats: the float32 ranking may differ from the float64 one only between near-ties. Every float32
        // score is within e_u = γ_d·max_i Σ_j|u_j·i_j| of the exact one (a d-term dot in any order, u = 2⁻²⁴), so
        // the item at float32 rank x scores, in float64, at least the float64 x-th best minus 2·e_u (one of the
        // x + 1 best float64 items sits at float32 rank x or lower). Every rank is held to that, not a count.
        int[] expected = RecommendationReference.TopK(u, i, d, excluded, k);
        double gamma = d * Math.Pow(2, -24) / (1 - d * Math.Pow(2, -24)) + d * Math.Pow(2, -53);
        for (int user = 0; user < users; user++)
        {
            double Score(int item) => Enumerable.Range(0, d).Sum(j => (double)u[user * d + j] * i[item * d + j]);
            double e = gamma * Enumerable.Range(0, items).Max(item => Enumerable.Range(0, d).Sum(j => Math.Abs((double)u[user * d + j] * i[item * d + j])));
            for (int x = user * k; x < (user + 1) * k; x++)
            {
                if (expected[x] == first![x])
                {
                    continue;
                }
                Assert.True(Score(first[x]) >= Score(expected[x]) - 2 * e,
                    $"user {user}, rank {x - user * k}: item {first[x]} scores {Score(first[x]):R}, float64's item {expected[x]} {Score(expected[x]):R}: further apart than rounding ({2 * e:E2})");
            }
        }
    }

    [Fact]
    public void Recall_and_ndcg_match_a_hand_computed_case()
    {
        // d = 1. Items score 5, 4, 3, 2, 1 for a user with embedding 1.
        float[] items = [5, 4, 3, 2, 1];
        float[] users = [1, 1, 1];
        // User 0: item 1 excluded, relevant {2, 4}. User 1: no relevant items (skipped). User 2: relevant {0}.
        var excluded = new CsrMatrix(3, 5, [0, 1, 1, 1], [1], [1f]);
        var relevant = new CsrMatrix(3, 5, [0, 2, 2, 3], [4, 2, 0], [1f, 1f, 1f]);
        RankingMetrics m = Stair.Kernels.Ranking.Evaluate(users, items, 1, new RankingTargets(excluded, relevant), [1, 2, 4]);
        Assert.Equal(2, m.UsersEvaluated);
        Assert.Equal(1, m.UsersSkipped);
        // User 0 ranks 0, 2, 3, 4: a hit at rank 2 (item 2) and rank 4 (item 4).
        double l3 = 1 / Math.Log2(3), l5 = 1 / Math.Log2(5);
        Assert.Equal((0.0 + 1) / 2, m.RecallAt(1), 12);
        Assert.Equal((0.0 + 1) / 2, m.NdcgAt(1), 12);
        Assert.Equal((0.5 + 1) / 2, m.RecallAt(2), 12);
        Assert.Equal((l3 / (1 + l3) + 1) / 2, m.NdcgAt(2), 12);
        Assert.Equal((1.0 + 1) / 2, m.RecallAt(4), 12);
        Assert.Equal(((l3 + l5) / (1 + l3) + 1) / 2, m.NdcgAt(4), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.RecallAt(3));
    }

    [Fact]
    public void Evaluate_matches_the_float64_reference()
    {
        const int users = 300, items = 250, d = 24;
        float[] u = IntegerTable(users, d, seed: 4), i = IntegerTable(items, d, seed: 5);
        CsrMatrix excluded = RandomSets(users, items, 0.04, seed: 6);
        CsrMatrix relevant = RandomSets(users, items, 0.02, seed: 7);
        int[] ks = [50, 10, 20];
        RankingMetrics m = Stair.Kernels.Ranking.Evaluate(u, i, d, new RankingTargets(excluded, relevant), ks);
        int[] lists = RecommendationReference.TopK(u, i, d, excluded, 50);
        for (int c = 0; c < ks.Length; c++)
        {
            (double recall, double ndcg, int evaluated) = RecommendationReference.Metrics(lists, 50, relevant, ks[c]);
            Assert.Equal(recall, m.Recall[c], 12);
            Assert.Equal(ndcg, m.Ndcg[c], 12);
            Assert.Equal(evaluated, m.UsersEvaluated);
        }
        Assert.Equal(ks, m.Ks);
        Assert.True(m.UsersSkipped >= 2); // users 0 (2 candidates) and 1 have no relevant items by construction
        Assert.True(m.RecallAt(50) > m.RecallAt(10));
    }

    [Fact]
    public void Bad_input_is_rejected_before_anything_is_written()
    {
        const int users = 4, items = 6, d = 3;
        float[] u = TestGraphs.Table(users, d, 1), i = TestGraphs.Table(items, d, 2);
        CsrMatrix excluded = RandomSets(users, items, 0.3, 3);
        var targets = new RankingTargets(excluded, RandomSets(users, items, 0.3, 4));
        int[] result = Enumerable.Repeat(-7, users * 2).ToArray();
        ArgumentAssert.Throws("k", () => Stair.Kernels.Ranking.TopK(u, i, d, excluded, 0, result));
        ArgumentAssert.Throws("k", () => Stair.Kernels.Ranking.TopK(u, i, d, excluded, items + 1, result));
        ArgumentAssert.Throws("result", () => Stair.Kernels.Ranking.TopK(u, i, d, excluded, 3, result));
        ArgumentAssert.Throws("userEmbeddings", () => Stair.Kernels.Ranking.TopK(u.AsSpan(1), i, d, excluded, 2, result));
        ArgumentAssert.Throws("itemEmbeddings", () => Stair.Kernels.Ranking.TopK(u, i.AsSpan(3), d, excluded, 2, result));
        ArgumentAssert.Throws("width", () => Stair.Kernels.Ranking.TopK(u, i, 0, excluded, 2, result));
        Assert.All(result, x => Assert.Equal(-7, x));
        ArgumentAssert.NamesIndex(ArgumentAssert.Throws("ks", () => Stair.Kernels.Ranking.Evaluate(u, i, d, targets, [2, 7])), 1);
        ArgumentAssert.NamesIndex(ArgumentAssert.Throws("ks", () => Stair.Kernels.Ranking.Evaluate(u, i, d, targets, [0])), 0);
        ArgumentAssert.Throws("ks", () => Stair.Kernels.Ranking.Evaluate(u, i, d, targets, []));
        ArgumentAssert.Throws("relevant", () => new RankingTargets(excluded, RandomSets(users, items + 1, 0.3, 4)));
        Assert.Throws<ArgumentNullException>(() => new RankingTargets(null!, excluded));
    }
}
