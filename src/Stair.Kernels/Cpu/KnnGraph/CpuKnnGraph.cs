// The CPU backend of the kNN graph: the similarity blocks screened by the SIMD host product.
namespace Stair.Kernels.Cpu.KnnGraph;

internal sealed class CpuKnnGraph(CpuOptions options) : IKnnGraphBackend
{
    public void Screen(KnnRows rows, KnnCandidates candidates, int blockRows)
        => KnnScreenCpu.Screen(rows, candidates, SimdTiers.Resolve(options.Tier), options.EffectiveThreads, blockRows);
}
