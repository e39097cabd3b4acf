// The CPU backend of full ranking: scores, masking and the top K on the tables' arrays, with
// the context's tier and threads (Ranking's unchecked body; the context has validated everything).
namespace Stair.Kernels.Cpu.Ranking;

internal sealed class CpuRanking(CpuOptions options) : IRankingBackend
{
    public RankingMetrics Evaluate(TableRows users, TableRows items, RankingTargets targets, ReadOnlySpan<int> ks, int kMax)
        => Kernels.Ranking.EvaluateUnchecked(users.Host, items.Host, users.Width, targets, ks, kMax, SimdTiers.Resolve(options.Tier),
            options.EffectiveThreads);
}
