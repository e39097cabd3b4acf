// ComputeContext's full-ranking entry points (see Ranking): checked here, once, then ranked by
// the backend (IRankingBackend: in place on the CPU backend; scores on the device and the top K
// on the host on the ILGPU backends).
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
            int kMax = Kernels.Ranking.ValidateKs(ks, targets.Items);
            return _backend.Ranking.Evaluate(new TableRows(embeddings, 0, targets.Users), new TableRows(embeddings, itemOffset, targets.Items),
                targets, ks, kMax);
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
            int kMax = Kernels.Ranking.ValidateKs(ks, targets.Items);
            return _backend.Ranking.Evaluate(TableRows.Of(userEmbeddings), TableRows.Of(itemEmbeddings), targets, ks, kMax);
        }
    }
}
