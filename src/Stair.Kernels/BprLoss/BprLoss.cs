// Public entry points of the BPR loss (kernels.md, BprLoss) on host spans. Arguments are
// checked here, once, before any pointer is taken or any gradient element is written; the
// driver under Cpu/BprLoss trusts them. ComputeContext.ComputeBprLoss is the device-table twin.
using Stair.Kernels.Cpu.BprLoss;

namespace Stair.Kernels;

/// <summary>How a kernel writes a gradient table.</summary>
public enum GradientMode
{
    /// <summary>
    /// Every element is written: rows the batch touches get their gradient, all other rows 0.
    /// The dense ∂Z an FSC backward pass needs, at the cost of clearing the whole table (N·d·4 bytes).
    /// </summary>
    Overwrite = 0,

    /// <summary>
    /// Rows the batch touches get their gradient added; no other element is read or written.
    /// Clear the table yourself (once, or after each use); a batch then costs only its own rows.
    /// </summary>
    Accumulate = 1,
}

/// <summary>
/// Bayesian personalized ranking loss over a batch of (user, positive item, negative item) triples:
/// x = e_u·e_i⁺ − e_u·e_i⁻, loss = mean softplus(−x), and its gradient with respect to the embedding
/// rows, s = σ(−x)/B: ∂e_u = −s(e_i⁺ − e_i⁻), ∂e_i⁺ = −s·e_u, ∂e_i⁻ = s·e_u, summed over every
/// occurrence of a row in the batch.
/// </summary>
/// <remarks>
/// Users and items can live in one table (the FSC output: users in rows [0, itemOffset), item i in
/// row itemOffset + i) or in two. A row that occurs several times in a batch gets the sum of its
/// contributions taken in batch order (user, positive, negative within a triple): the same bits
/// for every thread count and every <see cref="SimdTier"/>. The dot products use sixteen partial
/// sums in a fixed order; softplus and σ are evaluated in float64 in forms that cannot overflow.
/// Embeddings are not scanned for NaN or Inf (they propagate to the loss and the rows they touch).
/// </remarks>
public static class BprLoss
{
    /// <summary>BPR loss and gradient on one table holding users and items (as the FSC output does).</summary>
    /// <param name="embeddings">Row-major rows × <paramref name="width"/>: users in rows [0, <paramref name="itemOffset"/>), items after.</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="itemOffset">Row of item 0 (= the number of users U).</param>
    /// <param name="users">User of each triple, in [0, U).</param>
    /// <param name="positives">Positive item of each triple, in [0, rows − U).</param>
    /// <param name="negatives">Negative item of each triple, in [0, rows − U).</param>
    /// <param name="gradient">∂loss/∂embeddings, same shape as <paramref name="embeddings"/>; must not overlap it.</param>
    /// <param name="mode">Overwrite the whole table or add into the touched rows.</param>
    /// <param name="options">SIMD tier and threads.</param>
    /// <returns>The mean loss over the batch (0 for an empty batch).</returns>
    public static unsafe double Compute(ReadOnlySpan<float> embeddings, int width, int itemOffset,
        ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives,
        Span<float> gradient, GradientMode mode = GradientMode.Overwrite, CpuOptions? options = null)
    {
        options ??= CpuOptions.Default;
        options.Validate();
        ValidateWidth(width);
        if (embeddings.Length % width != 0)
        {
            throw new ArgumentException($"The table's length {embeddings.Length} is not a multiple of the width {width}.", nameof(embeddings));
        }
        int rows = embeddings.Length / width;
        if (itemOffset < 0 || itemOffset > rows)
        {
            throw new ArgumentOutOfRangeException(nameof(itemOffset), itemOffset, $"The item offset must lie in [0, {rows}] (the table has {rows} rows).");
        }
        ValidateTable(gradient, rows, width, nameof(gradient));
        if (gradient.Overlaps(embeddings))
        {
            throw new ArgumentException("The gradient table must not overlap the embedding table.", nameof(gradient));
        }
        ValidateMode(mode);
        ValidateBatch(users, positives, negatives, itemOffset, rows - itemOffset);
        fixed (float* e = embeddings)
        fixed (float* g = gradient)
        {
            long offset = (long)itemOffset * width;
            return BprLossDriver.ForCurrentThread().Run(SimdTiers.Resolve(options.Tier), options.EffectiveThreads, e, e + offset,
                itemOffset, rows - itemOffset, width, users, positives, negatives, g, g + offset, mode == GradientMode.Accumulate);
        }
    }

    /// <summary>BPR loss and gradient on separate user and item tables.</summary>
    /// <param name="userEmbeddings">Row-major U × <paramref name="width"/>.</param>
    /// <param name="itemEmbeddings">Row-major I × <paramref name="width"/>.</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="users">User of each triple, in [0, U).</param>
    /// <param name="positives">Positive item of each triple, in [0, I).</param>
    /// <param name="negatives">Negative item of each triple, in [0, I).</param>
    /// <param name="userGradient">∂loss/∂users, U × d; must not overlap any other table.</param>
    /// <param name="itemGradient">∂loss/∂items, I × d; must not overlap any other table.</param>
    /// <param name="mode">Overwrite both tables or add into the touched rows.</param>
    /// <param name="options">SIMD tier and threads.</param>
    /// <returns>The mean loss over the batch (0 for an empty batch).</returns>
    public static unsafe double Compute(ReadOnlySpan<float> userEmbeddings, ReadOnlySpan<float> itemEmbeddings, int width,
        ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives,
        Span<float> userGradient, Span<float> itemGradient, GradientMode mode = GradientMode.Overwrite, CpuOptions? options = null)
    {
        options ??= CpuOptions.Default;
        options.Validate();
        ValidateWidth(width);
        if (userEmbeddings.Length % width != 0)
        {
            throw new ArgumentException($"The user table's length {userEmbeddings.Length} is not a multiple of the width {width}.", nameof(userEmbeddings));
        }
        if (itemEmbeddings.Length % width != 0)
        {
            throw new ArgumentException($"The item table's length {itemEmbeddings.Length} is not a multiple of the width {width}.", nameof(itemEmbeddings));
        }
        int userRows = userEmbeddings.Length / width, itemRows = itemEmbeddings.Length / width;
        ValidateTable(userGradient, userRows, width, nameof(userGradient));
        ValidateTable(itemGradient, itemRows, width, nameof(itemGradient));
        if (userGradient.Overlaps(userEmbeddings) || userGradient.Overlaps(itemEmbeddings) || userGradient.Overlaps(itemGradient))
        {
            throw new ArgumentException("The user gradient must not overlap the embedding tables or the item gradient.", nameof(userGradient));
        }
        if (itemGradient.Overlaps(userEmbeddings) || itemGradient.Overlaps(itemEmbeddings))
        {
            throw new ArgumentException("The item gradient must not overlap the embedding tables.", nameof(itemGradient));
        }
        ValidateMode(mode);
        ValidateBatch(users, positives, negatives, userRows, itemRows);
        fixed (float* eu = userEmbeddings)
        fixed (float* ei = itemEmbeddings)
        fixed (float* gu = userGradient)
        fixed (float* gi = itemGradient)
        {
            return BprLossDriver.ForCurrentThread().Run(SimdTiers.Resolve(options.Tier), options.EffectiveThreads, eu, ei,
                userRows, itemRows, width, users, positives, negatives, gu, gi, mode == GradientMode.Accumulate);
        }
    }

    internal static void ValidateWidth(int width)
    {
        if (width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "Width d must be at least 1.");
        }
    }

    internal static void ValidateMode(GradientMode mode)
    {
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown gradient mode.");
        }
    }

    private static void ValidateTable(ReadOnlySpan<float> table, int rows, int width, string name)
    {
        long expected = (long)rows * width;
        if (table.Length != expected)
        {
            throw new ArgumentException($"Expected a {rows} × {width} table ({expected} floats), got {table.Length} floats.", name);
        }
    }

    /// <summary>Checks that the three index lists have one length and every index is in range (the first bad position is named).</summary>
    internal static void ValidateBatch(ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives, int userRows, int itemRows)
    {
        if (positives.Length != users.Length)
        {
            throw new ArgumentException($"Expected one positive per user ({users.Length}), got {positives.Length}.", nameof(positives));
        }
        if (negatives.Length != users.Length)
        {
            throw new ArgumentException($"Expected one negative per user ({users.Length}), got {negatives.Length}.", nameof(negatives));
        }
        CheckRange(users, userRows, "user", nameof(users));
        CheckRange(positives, itemRows, "item", nameof(positives));
        CheckRange(negatives, itemRows, "item", nameof(negatives));
    }

    private static void CheckRange(ReadOnlySpan<int> indices, int bound, string what, string name)
    {
        for (int k = 0; k < indices.Length; k++)
        {
            if ((uint)indices[k] >= (uint)bound)
            {
                throw new ArgumentOutOfRangeException(name, indices[k], $"{name}[{k}] is {indices[k]}; {what} indices must lie in [0, {bound}).");
            }
        }
    }
}
