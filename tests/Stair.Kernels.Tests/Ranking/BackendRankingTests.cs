// ComputeContext.EvaluateRanking on every backend: the same metrics as the host-span CPU
// entry point, on one table with an item offset and on two tables; bad input rejected.
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Ranking;

public class BackendRankingTests
{
    public static TheoryData<Backend> AllBackends() => new() { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda };

    [SkippableTheory]
    [MemberData(nameof(AllBackends))]
    public void Matches_the_host_span_entry_point(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int users = 70, items = 45, d = 9;
        float[] table = RankingTests.IntegerTable(users + items, d, seed: 3);
        var targets = new RankingTargets(RankingTests.RandomSets(users, items, 0.1, 1), RankingTests.RandomSets(users, items, 0.08, 2));
        int[] ks = [1, 5, 20];
        RankingMetrics expected = Stair.Kernels.Ranking.Evaluate(table.AsSpan(0, users * d), table.AsSpan(users * d), d, targets, ks);
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable z = context.Upload(table, users + items, d);
        RankingMetrics combined = context.EvaluateRanking(z, users, targets, ks);
        using DeviceTable u = context.Upload(table.AsSpan(0, users * d), users, d);
        using DeviceTable i = context.Upload(table.AsSpan(users * d), items, d);
        RankingMetrics separate = context.EvaluateRanking(u, i, targets, ks);
        context.RankingBlockScores = 7 * items; // blocks of 7 users: the last one partial
        RankingMetrics blocked = context.EvaluateRanking(z, users, targets, ks);
        foreach (RankingMetrics m in new[] { combined, separate, blocked })
        {
            Bits.AssertBitsEqual(expected.Recall.ToArray(), m.Recall.ToArray(), "recall vs CPU");
            Bits.AssertBitsEqual(expected.Ndcg.ToArray(), m.Ndcg.ToArray(), "NDCG vs CPU");
            Assert.Equal(expected.UsersEvaluated, m.UsersEvaluated);
            Assert.Equal(expected.UsersSkipped, m.UsersSkipped);
        }
        ArgumentAssert.Throws("itemOffset", () => context.EvaluateRanking(z, users - 1, targets, ks));
        ArgumentAssert.Throws("itemOffset", () => context.EvaluateRanking(z, users + 1, targets, ks));
        ArgumentAssert.Throws("ks", () => context.EvaluateRanking(z, users, targets, [items + 1]));
        ArgumentAssert.Throws("itemEmbeddings", () => context.EvaluateRanking(u, u, targets, ks));
    }
}
