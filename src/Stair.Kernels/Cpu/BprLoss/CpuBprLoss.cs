// The CPU backend of the BPR loss: the SIMD driver on the tables' arrays, with the context's
// tier and threads (the context has checked every index of the batch).
namespace Stair.Kernels.Cpu.BprLoss;

internal sealed class CpuBprLoss(CpuOptions options) : IBprLossBackend
{
    public unsafe double Compute(TableRows users, TableRows items, ReadOnlySpan<int> userIndices, ReadOnlySpan<int> positives,
        ReadOnlySpan<int> negatives, TableRows userGradient, TableRows itemGradient, bool accumulate)
    {
        fixed (float* eu = users.Host, ei = items.Host, gu = userGradient.Host, gi = itemGradient.Host)
        {
            return BprLossDriver.ForCurrentThread().Run(SimdTiers.Resolve(options.Tier), options.EffectiveThreads, eu, ei,
                users.RowCount, items.RowCount, users.Width, userIndices, positives, negatives, gu, gi, accumulate);
        }
    }

    public void Dispose()
    {
    }
}
