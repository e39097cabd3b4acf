// The public shapes of batched whitening (kernels.md, Whitening): one modality in, the fused
// item table and per-modality diagnostics out.
namespace Stair.Kernels;

/// <summary>How the top-d left singular vectors are found.</summary>
public enum WhiteningMethod
{
    /// <summary>Gram matrix on the smaller side, then its top-d eigenpairs to a tight residual (dense solver when the side is small).</summary>
    Exact,

    /// <summary>Randomized subspace iteration (width d + oversampling, a few power passes, re-orthonormalized each pass).</summary>
    Randomized,
}

/// <summary>One modality's features and its fusion weight.</summary>
/// <param name="Features">Row-major items × <paramref name="Columns"/> float32 features (one row per item, rows in item order).</param>
/// <param name="Columns">Feature width F (≥ 1).</param>
/// <param name="Weight">Fusion weight k_m (finite, &gt; 0; STAIR uses the modality's kNN k).</param>
/// <param name="Name">Optional name used in messages and diagnostics (defaults to "modality {index}").</param>
public readonly record struct WhiteningModality(ReadOnlyMemory<float> Features, int Columns, double Weight, string? Name = null);

/// <summary>Options of <see cref="Whitening.Whiten(IReadOnlyList{WhiteningModality}, WhiteningOptions?, CpuOptions?)"/>.</summary>
public sealed record WhiteningOptions
{
    /// <summary>Embedding width d (≥ 1; 64 in STAIR).</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Exact (default) or randomized.</summary>
    public WhiteningMethod Method { get; init; } = WhiteningMethod.Exact;

    /// <summary>Randomized: extra columns p beyond d in the sketch (≥ 0; default 32, see kernels.md "Whitening" for the measurement).</summary>
    public int Oversampling { get; init; } = 32;

    /// <summary>Randomized: power passes q (≥ 0), each one Xᵀ·Q and one X·Z product, re-orthonormalized.</summary>
    public int PowerIterations { get; init; } = 3;

    /// <summary>Randomized: seed of the Gaussian test matrix (results are reproducible for a seed).</summary>
    public ulong Seed { get; init; } = 0x5EED_1234;

    /// <summary>
    /// Numerical-rank cut-off relative to the largest singular value: a column j is kept when
    /// σ_j &gt; <see cref="RankTolerance"/>·σ_1 (in (0, 1); default 1e-4, about a thousand float32 roundings
    /// of σ_1: below it a singular direction of float32 data is noise).
    /// </summary>
    public double RankTolerance { get; init; } = 1e-4;

    internal void Validate()
    {
        if (Dimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "The embedding width d must be at least 1.");
        }
        if (Oversampling < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Oversampling), Oversampling, "Oversampling must be ≥ 0.");
        }
        if (PowerIterations < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(PowerIterations), PowerIterations, "Power iterations must be ≥ 0.");
        }
        if (!Enum.IsDefined(Method))
        {
            throw new ArgumentOutOfRangeException(nameof(Method), Method, "Unknown whitening method.");
        }
        if (!(RankTolerance > 0 && RankTolerance < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(RankTolerance), RankTolerance, "The rank tolerance must lie in (0, 1).");
        }
    }
}

/// <summary>One modality's whitened table W_m and what the factorization found.</summary>
public sealed class WhiteningModalityResult
{
    internal WhiteningModalityResult(string name, float[] embedding, double[] singularValues, int rank)
    {
        Name = name;
        Embedding = embedding;
        SingularValues = singularValues;
        Rank = rank;
    }

    /// <summary>The modality's name (or "modality {index}").</summary>
    public string Name { get; }

    /// <summary>W_m = U[:, :d]·√(I/d), items × d row-major; columns at and past <see cref="Rank"/> are zero.</summary>
    public float[] Embedding { get; }

    /// <summary>The top singular values σ_1 ≥ σ_2 ≥ … of the column-centered features (length d; 0 where min(I, F) &lt; d).</summary>
    public IReadOnlyList<double> SingularValues { get; }

    /// <summary>Effective rank r ≤ d: the columns with σ_j &gt; tolerance·σ_1 (0 when the centered features are all zero).</summary>
    public int Rank { get; }

    /// <summary>Columns of <see cref="Embedding"/> that are zero because the rank is below d (d − <see cref="Rank"/>).</summary>
    public int ZeroColumns => SingularValues.Count - Rank;

    /// <summary>σ_1/σ_r over the kept columns (1 for rank 1, +∞ when no column is kept).</summary>
    public double ConditionNumber => Rank == 0 ? double.PositiveInfinity : SingularValues[0] / SingularValues[Rank - 1];
}

/// <summary>The output of batched whitening: the fused item table and each modality's part.</summary>
public sealed class WhiteningResult
{
    internal WhiteningResult(int items, int dimension, float[] itemTable, IReadOnlyList<WhiteningModalityResult> modalities)
    {
        Items = items;
        Dimension = dimension;
        ItemTable = itemTable;
        Modalities = modalities;
    }

    /// <summary>Number of items I.</summary>
    public int Items { get; }

    /// <summary>Embedding width d.</summary>
    public int Dimension { get; }

    /// <summary>E_item = Σ_m k_m W_m / Σ_m k_m, items × d row-major.</summary>
    public float[] ItemTable { get; }

    /// <summary>Per-modality tables and diagnostics, in input order.</summary>
    public IReadOnlyList<WhiteningModalityResult> Modalities { get; }

    /// <summary>
    /// The user table E_user = R_left·E_item (users × d): each user the mean of their items' rows, a user with no
    /// interactions zero. <paramref name="leftNormalizedInteractions"/> is R_left from
    /// <see cref="GraphBuilder.LeftNormalizedInteractions"/> (users × items).
    /// </summary>
    public float[] UserTable(CsrMatrix leftNormalizedInteractions, CpuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(leftNormalizedInteractions);
        if (leftNormalizedInteractions.Columns != Items)
        {
            throw new ArgumentException($"R_left has {leftNormalizedInteractions.Columns} columns but there are {Items} items.", nameof(leftNormalizedInteractions));
        }
        var users = new float[(long)leftNormalizedInteractions.Rows * Dimension];
        if (users.Length > 0)
        {
            Propagation.Spmm(new PropagationPlan(leftNormalizedInteractions, options), ItemTable, users, Dimension);
        }
        return users;
    }

    // ComputeContext.UserTable's body (the context holds its lock).
    internal float[] UserTable(ComputeContext context, CsrMatrix leftNormalizedInteractions)
    {
        ArgumentNullException.ThrowIfNull(leftNormalizedInteractions);
        if (leftNormalizedInteractions.Columns != Items)
        {
            throw new ArgumentException($"R_left has {leftNormalizedInteractions.Columns} columns but there are {Items} items.", nameof(leftNormalizedInteractions));
        }
        if (leftNormalizedInteractions.Rows == 0)
        {
            return [];
        }
        using DeviceGraph graph = context.Upload(leftNormalizedInteractions);
        using DeviceTable items = context.Upload(ItemTable, Items, Dimension);
        using DeviceTable users = context.CreateTable(leftNormalizedInteractions.Rows, Dimension);
        context.Spmm(graph, items, users);
        return users.ToArray();
    }
}
