// The seam of full ranking: ComputeContext checks the tables, targets and cut-offs once; a
// backend ranks (Cpu/Ranking/CpuRanking.cs, Gpu/Ranking/IlgpuRanking.cs).
namespace Stair.Kernels;

internal interface IRankingBackend
{
    /// <summary>Recall@K and NDCG@K; <paramref name="kMax"/> is the largest of <paramref name="ks"/>.</summary>
    RankingMetrics Evaluate(TableRows users, TableRows items, RankingTargets targets, ReadOnlySpan<int> ks, int kMax);
}
