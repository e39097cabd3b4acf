// ComputeContext's BPR entry points: the loss and its gradient over a batch of triples on
// device-resident tables. The batch's indices come from the host (where the sampler runs) and
// are checked here, once; the backend (IBprLossBackend) runs the batch. Only the loss comes back.
namespace Stair.Kernels;

public sealed partial class ComputeContext
{

    /// <summary>
    /// BPR loss and gradient on one table holding users (rows [0, <paramref name="itemOffset"/>)) and items
    /// (item i at row itemOffset + i), as the FSC output does; see <see cref="Kernels.BprLoss"/> for the math.
    /// </summary>
    /// <param name="embeddings">The table (e.g. the FSC output Z).</param>
    /// <param name="itemOffset">Row of item 0 (= the number of users).</param>
    /// <param name="users">User of each triple.</param>
    /// <param name="positives">Positive item of each triple.</param>
    /// <param name="negatives">Negative item of each triple.</param>
    /// <param name="gradient">∂loss/∂embeddings (same shape; another table of this context).</param>
    /// <param name="mode">Overwrite the whole table or add into the touched rows.</param>
    /// <returns>The mean loss (waits for the batch to finish).</returns>
    public double ComputeBprLoss(DeviceTable embeddings, int itemOffset, ReadOnlySpan<int> users, ReadOnlySpan<int> positives,
        ReadOnlySpan<int> negatives, DeviceTable gradient, GradientMode mode = GradientMode.Overwrite)
    {
        lock (_gate)
        {
            ValidateOwned(embeddings, nameof(embeddings));
            ValidateOwned(gradient, nameof(gradient));
            if (embeddings.Overlaps(gradient))
            {
                throw new ArgumentException("The gradient table must not be the embedding table.", nameof(gradient));
            }
            ValidateShape(gradient, embeddings.Rows, embeddings.Width, nameof(gradient));
            if (itemOffset < 0 || itemOffset > embeddings.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(itemOffset), itemOffset, $"The item offset must lie in [0, {embeddings.Rows}] (the table has {embeddings.Rows} rows).");
            }
            Kernels.BprLoss.ValidateMode(mode);
            int itemRows = embeddings.Rows - itemOffset;
            Kernels.BprLoss.ValidateBatch(users, positives, negatives, itemOffset, itemRows);
            return _backend.BprLoss.Compute(new TableRows(embeddings, 0, itemOffset), new TableRows(embeddings, itemOffset, itemRows),
                users, positives, negatives, new TableRows(gradient, 0, itemOffset), new TableRows(gradient, itemOffset, itemRows),
                mode == GradientMode.Accumulate);
        }
    }

    /// <summary>BPR loss and gradient on separate user and item tables (see <see cref="Kernels.BprLoss"/>).</summary>
    /// <param name="userEmbeddings">U × d.</param>
    /// <param name="itemEmbeddings">I × d.</param>
    /// <param name="users">User of each triple.</param>
    /// <param name="positives">Positive item of each triple.</param>
    /// <param name="negatives">Negative item of each triple.</param>
    /// <param name="userGradient">∂loss/∂users, U × d.</param>
    /// <param name="itemGradient">∂loss/∂items, I × d.</param>
    /// <param name="mode">Overwrite both tables or add into the touched rows.</param>
    /// <returns>The mean loss (waits for the batch to finish).</returns>
    public double ComputeBprLoss(DeviceTable userEmbeddings, DeviceTable itemEmbeddings, ReadOnlySpan<int> users, ReadOnlySpan<int> positives,
        ReadOnlySpan<int> negatives, DeviceTable userGradient, DeviceTable itemGradient, GradientMode mode = GradientMode.Overwrite)
    {
        lock (_gate)
        {
            ValidateOwned(userEmbeddings, nameof(userEmbeddings));
            ValidateOwned(itemEmbeddings, nameof(itemEmbeddings));
            ValidateOwned(userGradient, nameof(userGradient));
            ValidateOwned(itemGradient, nameof(itemGradient));
            int d = userEmbeddings.Width;
            ValidateShape(itemEmbeddings, itemEmbeddings.Rows, d, nameof(itemEmbeddings));
            ValidateShape(userGradient, userEmbeddings.Rows, d, nameof(userGradient));
            ValidateShape(itemGradient, itemEmbeddings.Rows, d, nameof(itemGradient));
            if (userGradient.Overlaps(userEmbeddings) || userGradient.Overlaps(itemEmbeddings) || userGradient.Overlaps(itemGradient))
            {
                throw new ArgumentException("The user gradient must not be an embedding table or the item gradient.", nameof(userGradient));
            }
            if (itemGradient.Overlaps(userEmbeddings) || itemGradient.Overlaps(itemEmbeddings))
            {
                throw new ArgumentException("The item gradient must not be an embedding table.", nameof(itemGradient));
            }
            Kernels.BprLoss.ValidateMode(mode);
            Kernels.BprLoss.ValidateBatch(users, positives, negatives, userEmbeddings.Rows, itemEmbeddings.Rows);
            return _backend.BprLoss.Compute(TableRows.Of(userEmbeddings), TableRows.Of(itemEmbeddings), users, positives, negatives,
                TableRows.Of(userGradient), TableRows.Of(itemGradient), mode == GradientMode.Accumulate);
        }
    }
}
