// The seam of the BPR loss: ComputeContext checks tables, offsets and every batch index once,
// then a backend runs the batch (Cpu/BprLoss/CpuBprLoss.cs, Gpu/BprLoss/IlgpuBprLoss.cs).
namespace Stair.Kernels;

internal interface IBprLossBackend : IDisposable
{
    /// <summary>The mean BPR loss of the batch; writes (or adds, when <paramref name="accumulate"/>) the gradients.</summary>
    double Compute(TableRows users, TableRows items, ReadOnlySpan<int> userIndices, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives,
        TableRows userGradient, TableRows itemGradient, bool accumulate);
}
