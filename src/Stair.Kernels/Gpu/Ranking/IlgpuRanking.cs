// The ILGPU backend of full ranking: the scores of a block of users (up to 16 M scores, 64 MB)
// are computed on the device by the shared dense product (DenseKernels), downloaded, and masked
// and cut to the top K on the host by the CPU engine's selection (all cores); only the lists
// stay, never users × items.
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu;
using Stair.Kernels.Cpu.Ranking;
using Stair.Kernels.Gpu.Dense;

namespace Stair.Kernels.Gpu.Ranking;

internal sealed class IlgpuRanking(IlgpuDevice device, CpuOptions hostOptions) : IRankingBackend
{
    /// <summary>Most scores per device block (16 M = 64 MB); tests lower it to cross block boundaries.</summary>
    internal long BlockScores { get; set; } = 16L << 20;

    public unsafe RankingMetrics Evaluate(TableRows users, TableRows items, RankingTargets targets, ReadOnlySpan<int> ks, int kMax)
    {
        int userCount = targets.Users, itemCount = targets.Items, width = users.Width;
        var lists = new int[(long)userCount * kMax];
        if (userCount > 0)
        {
            DenseKernels dense = device.Kernels<DenseKernels>();
            AcceleratorStream stream = device.Stream;
            ArrayView<float> userView = users.View, itemView = items.View;
            int block = (int)Math.Clamp(BlockScores / itemCount, 1, userCount);
            using MemoryBuffer1D<float, Stride1D.Dense> scores = device.Allocate<float>((long)block * itemCount, "a block of ranking scores");
            float[] host = GC.AllocateUninitializedArray<float>(block * itemCount, pinned: true);
            SimdTier tier = SimdTiers.Resolve(hostOptions.Tier);
            int threads = hostOptions.EffectiveThreads;
            fixed (float* s = host)
            fixed (int* result = lists)
            {
                for (int first = 0; first < userCount; first += block)
                {
                    int count = Math.Min(block, userCount - first);
                    dense.MultiplyTransposed(stream, userView.SubView((long)first * width, (long)count * width), width, itemView, width,
                        scores.View, itemCount, count, itemCount, width);
                    scores.View.SubView(0, (long)count * itemCount).CopyToCPU(stream, host.AsSpan(0, count * itemCount));
                    stream.Synchronize();
                    var job = new ScoreRowsTopKJob(tier, s, count, itemCount, targets.Excluded, first, kMax, result, threads);
                    CpuWorkerPool.Shared.Run(job, threads);
                }
            }
        }
        return Kernels.Ranking.Metrics(lists, kMax, targets.Relevant, ks);
    }
}
