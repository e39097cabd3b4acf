// The in-memory form of a recommendation data set (the contract between the data loaders and the trainer):
// contiguous ids, binary interactions split three ways as users × items CSR matrices, and the
// item features of each modality.
using Stair.Kernels;

namespace Stair.Recommender;

/// <summary>One modality's item features, rows in item order (Items × Columns, row-major float32).</summary>
/// <param name="Name">The modality's name (the <c>&lt;name&gt;_feat.npy</c> prefix: "text", "image", "genres", …).</param>
/// <param name="Features">Items × <paramref name="Columns"/> values, row-major, every one finite.</param>
/// <param name="Columns">Width of one item's feature vector.</param>
/// <param name="DefaultK">The modality's kNN degree, which doubles as its weight when modalities are fused
/// (STAIR: text 5, visual 1).</param>
public sealed record ModalityFeatures(string Name, float[] Features, int Columns, int DefaultK)
{
    /// <summary>Number of items (rows): <c>Features.Length / Columns</c>.</summary>
    public int Rows => Columns == 0 ? 0 : Features.Length / Columns;
}

/// <summary>
/// A data set in memory: contiguous ids, binary interactions split three ways
/// (users × items CSR, values 1, each row's columns sorted ascending and distinct).
/// </summary>
public sealed class RecommendationDataset
{
    /// <summary>The data set's name ("movielens", "synthetic:baby", or the stem of the <c>.inter</c> file).</summary>
    public required string Name { get; init; }

    /// <summary>Number of users U; user ids are 0 … U − 1.</summary>
    public required int Users { get; init; }

    /// <summary>Number of items I; item ids are 0 … I − 1, the row order of every modality's features.</summary>
    public required int Items { get; init; }

    /// <summary>Training interactions (x_label 0), U × I, values 1.</summary>
    public required CsrMatrix Train { get; init; }

    /// <summary>Validation interactions (x_label 1), U × I, values 1.</summary>
    public required CsrMatrix Validation { get; init; }

    /// <summary>Test interactions (x_label 2), U × I, values 1.</summary>
    public required CsrMatrix Test { get; init; }

    /// <summary>Item features per modality, each with <see cref="Items"/> rows.</summary>
    public required IReadOnlyList<ModalityFeatures> Modalities { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name}: {Users} users, {Items} items, {Train.NonZeros}/{Validation.NonZeros}/{Test.NonZeros} train/validation/test interactions, " +
        $"modalities {string.Join(", ", Modalities.Select(m => $"{m.Name} {m.Columns}-d k={m.DefaultK}"))}";
}
