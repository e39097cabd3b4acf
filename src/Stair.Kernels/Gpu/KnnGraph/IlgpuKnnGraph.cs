// The ILGPU backend of the kNN graph: the similarity blocks multiplied on the device, the
// candidates offered on the host with the context's host tier and threads.
using Stair.Kernels.Cpu.KnnGraph;

namespace Stair.Kernels.Gpu.KnnGraph;

internal sealed class IlgpuKnnGraph(ComputeContext owner, IlgpuDevice device, CpuOptions hostOptions) : IKnnGraphBackend
{
    public void Screen(KnnRows rows, KnnCandidates candidates, int blockRows)
        => KnnScreenDevice.Screen(owner, device, rows, candidates, SimdTiers.Resolve(hostOptions.Tier), hostOptions.EffectiveThreads, blockRows);
}
