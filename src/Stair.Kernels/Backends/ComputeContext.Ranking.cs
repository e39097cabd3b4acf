// ComputeContext's full-ranking entry points (see Ranking). On the CPU backend they run on the
// tables in place. On the ILGPU backends the two tables are downloaded once per evaluation
// (U·d + I·d floats, 6.8 MB at Baby shape) and ranked by the CPU engine: scoring on the device
// waits for the shared device dense product (DenseKernels), which this library does not duplicate.
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
        ValidateOwned(embeddings, nameof(embeddings));
        ArgumentNullException.ThrowIfNull(targets);
        if (itemOffset < targets.Users || (long)itemOffset + targets.Items > embeddings.Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(itemOffset), itemOffset,
                $"Users take rows [0, {targets.Users}) and {targets.Items} items must follow from the offset within {embeddings.Rows} rows.");
        }
        Kernels.Ranking.ValidateKs(ks, targets.Items);
        int d = embeddings.Width;
        ReadOnlySpan<float> host = Backend == Backend.Cpu ? embeddings.Host : embeddings.ToArray();
        return Kernels.Ranking.Evaluate(host.Slice(0, targets.Users * d), host.Slice(itemOffset * d, targets.Items * d), d, targets, ks, _cpuOptions);
    }

    /// <summary>Recall@K and NDCG@K of a full ranking on separate user (U × d) and item (I × d) tables.</summary>
    /// <param name="userEmbeddings">U × d.</param>
    /// <param name="itemEmbeddings">I × d.</param>
    /// <param name="targets">Excluded and relevant items per user.</param>
    /// <param name="ks">Cut-offs, each in [1, I].</param>
    public RankingMetrics EvaluateRanking(DeviceTable userEmbeddings, DeviceTable itemEmbeddings, RankingTargets targets, ReadOnlySpan<int> ks)
    {
        ValidateOwned(userEmbeddings, nameof(userEmbeddings));
        ValidateOwned(itemEmbeddings, nameof(itemEmbeddings));
        ArgumentNullException.ThrowIfNull(targets);
        ValidateShape(userEmbeddings, targets.Users, userEmbeddings.Width, nameof(userEmbeddings));
        ValidateShape(itemEmbeddings, targets.Items, userEmbeddings.Width, nameof(itemEmbeddings));
        Kernels.Ranking.ValidateKs(ks, targets.Items);
        ReadOnlySpan<float> users = Backend == Backend.Cpu ? userEmbeddings.Host : userEmbeddings.ToArray();
        ReadOnlySpan<float> items = Backend == Backend.Cpu ? itemEmbeddings.Host : itemEmbeddings.ToArray();
        return Kernels.Ranking.Evaluate(users, items, userEmbeddings.Width, targets, ks, _cpuOptions);
    }
}
