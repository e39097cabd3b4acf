// ComputeContext's full-ranking entry points (see Ranking). On the CPU backend they run on the
// tables in place. On the ILGPU backends the scores of a block of users (up to 16 M scores,
// 64 MB) are computed on the device by the shared dense product (DenseKernels), downloaded, and
// masked and cut to the top K on the host by the CPU engine's selection (all cores); only the
// lists stay, never users × items.
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu;
using Stair.Kernels.Cpu.Ranking;

namespace Stair.Kernels;

public sealed partial class ComputeContext
{
    /// <summary>
    /// Recall@K and NDCG@K of a full ranking on one table holding users (rows [0, U)) and items
    /// (item i at row <paramref name="itemOffset"/> + i), as the FSC output does.
    /// </summary>
    /// <param name="embeddings">The table (e.g. the FSC output Z).</param>
    /// <param name="itemOffset">Row of item 0 (≥ U; items must fit in the table).</param>
    /// <param name="targets">Excluded and relevant items per user.</param>
    /// <param name="ks">Cut-offs, each in [1, I].</param>
    public RankingMetrics EvaluateRanking(DeviceTable embeddings, int itemOffset, RankingTargets targets, ReadOnlySpan<int> ks)
    {
        lock (_gate)
        {
            ValidateOwned(embeddings, nameof(embeddings));
            ArgumentNullException.ThrowIfNull(targets);
            if (itemOffset < targets.Users || (long)itemOffset + targets.Items > embeddings.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(itemOffset), itemOffset,
                    $"Users take rows [0, {targets.Users}) and {targets.Items} items must follow from the offset within {embeddings.Rows} rows.");
            }
            Kernels.Ranking.ValidateKs(ks, targets.Items);
            int d = embeddings.Width;
            if (Backend == Backend.Cpu)
            {
                ReadOnlySpan<float> host = embeddings.Host;
                return Kernels.Ranking.Evaluate(host.Slice(0, targets.Users * d), host.Slice(itemOffset * d, targets.Items * d), d, targets, ks, _cpuOptions);
            }
            ArrayView<float> view = embeddings.View;
            return RankOnDevice(view.SubView(0, (long)targets.Users * d), view.SubView((long)itemOffset * d, (long)targets.Items * d), d, targets, ks);
        }
    }

    /// <summary>Recall@K and NDCG@K of a full ranking on separate user (U × d) and item (I × d) tables.</summary>
    /// <param name="userEmbeddings">U × d.</param>
    /// <param name="itemEmbeddings">I × d.</param>
    /// <param name="targets">Excluded and relevant items per user.</param>
    /// <param name="ks">Cut-offs, each in [1, I].</param>
    public RankingMetrics EvaluateRanking(DeviceTable userEmbeddings, DeviceTable itemEmbeddings, RankingTargets targets, ReadOnlySpan<int> ks)
    {
        lock (_gate)
        {
            ValidateOwned(userEmbeddings, nameof(userEmbeddings));
            ValidateOwned(itemEmbeddings, nameof(itemEmbeddings));
            ArgumentNullException.ThrowIfNull(targets);
            ValidateShape(userEmbeddings, targets.Users, userEmbeddings.Width, nameof(userEmbeddings));
            ValidateShape(itemEmbeddings, targets.Items, userEmbeddings.Width, nameof(itemEmbeddings));
            Kernels.Ranking.ValidateKs(ks, targets.Items);
            if (Backend == Backend.Cpu)
            {
                return Kernels.Ranking.Evaluate(userEmbeddings.Host, itemEmbeddings.Host, userEmbeddings.Width, targets, ks, _cpuOptions);
            }
            return RankOnDevice(userEmbeddings.View.SubView(0, userEmbeddings.Length), itemEmbeddings.View.SubView(0, itemEmbeddings.Length),
                userEmbeddings.Width, targets, ks);
        }
    }

    /// <summary>Most scores per device block (16 M = 64 MB); tests lower it to cross block boundaries.</summary>
    internal long RankingBlockScores { get; set; } = 16L << 20;

    /// <summary>Scores per block of users on the device, selection on the host.</summary>
    private unsafe RankingMetrics RankOnDevice(ArrayView<float> users, ArrayView<float> items, int width, RankingTargets targets, ReadOnlySpan<int> ks)
    {
        int userCount = targets.Users, itemCount = targets.Items;
        int kMax = Kernels.Ranking.ValidateKs(ks, itemCount);
        var lists = new int[(long)userCount * kMax];
        if (userCount > 0)
        {
            int block = (int)Math.Clamp(RankingBlockScores / itemCount, 1, userCount);
            using MemoryBuffer1D<float, Stride1D.Dense> scores = Allocate<float>((long)block * itemCount, "a block of ranking scores");
            float[] host = GC.AllocateUninitializedArray<float>(block * itemCount, pinned: true);
            SimdTier tier = SimdTiers.Resolve(_cpuOptions.Tier);
            fixed (float* s = host)
            fixed (int* result = lists)
            {
                for (int first = 0; first < userCount; first += block)
                {
                    int count = Math.Min(block, userCount - first);
                    Dense.MultiplyTransposed(Stream, users.SubView((long)first * width, (long)count * width), width, items, width,
                        scores.View, itemCount, count, itemCount, width);
                    scores.View.SubView(0, (long)count * itemCount).CopyToCPU(Stream, host.AsSpan(0, count * itemCount));
                    Stream.Synchronize();
                    var job = new ScoreRowsTopKJob(tier, s, count, itemCount, targets.Excluded, first, kMax, result, _cpuOptions.EffectiveThreads);
                    CpuWorkerPool.Shared.Run(job, _cpuOptions.EffectiveThreads);
                }
            }
        }
        return Kernels.Ranking.Metrics(lists, kMax, targets.Relevant, ks);
    }
}
