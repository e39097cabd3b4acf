// The seam of the kNN graph: normalization and the exact float64 finish run on the host for
// every backend (the same neighbours everywhere); the backend screens the similarity blocks
// (Cpu/KnnGraph/KnnScreenCpu.cs, Gpu/KnnGraph/KnnScreenDevice.cs).
using Stair.Kernels.Cpu.KnnGraph;

namespace Stair.Kernels;

internal interface IKnnGraphBackend
{
    /// <summary>Offers every pair's screened similarity to the candidates (blockRows 0 picks the block size).</summary>
    void Screen(KnnRows rows, KnnCandidates candidates, int blockRows);
}
