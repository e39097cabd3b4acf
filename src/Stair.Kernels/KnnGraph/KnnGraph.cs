// The item–item modality kNN graph of kernels.md, KnnGraph: per modality, cosine
// similarity of L2-normalized rows, the item itself excluded, top-k per row (ties to the
// lower index) as directed edges of weight 1; modalities united by summing weights, made
// undirected by max, then S̃ = D^{-1/2} W D^{-1/2}. The similarity is computed in blocks
// (Cpu/KnnGraph, Gpu/KnnGraph) with a streaming screen per row and an exact float64 finish:
// memory O(I·k + block²), never I × I, and the same graph on every backend and tier.
using Stair.Kernels.Cpu.KnnGraph;

namespace Stair.Kernels;

/// <summary>One modality's features and its neighbour count.</summary>
/// <param name="Features">Row-major items × <paramref name="Columns"/> float32 features.</param>
/// <param name="Columns">Feature width F (≥ 1).</param>
/// <param name="K">Neighbours per item (1 ≤ k ≤ items − 1).</param>
public readonly record struct KnnModality(ReadOnlyMemory<float> Features, int Columns, int K);

/// <summary>Builds the symmetric-normalized modality kNN graph S̃ (kernels.md, KnnGraph).</summary>
/// <remarks>
/// <para>Similarity is the cosine of the rows normalized on the host in float64 (stored as float32).
/// Neighbours are the k highest scores with ties to the lower index, where the score deciding
/// membership and order is the float64 dot product of the normalized rows in a fixed order:
/// the backend computes float32 similarity blocks only to screen out columns that provably cannot
/// make the top k, and the survivors are rescored exactly. So every backend (CPU tiers, CUDA,
/// OpenCL, ILGPU's simulator), thread count and block size returns the same neighbours.</para>
/// <para>A zero feature row has cosine similarity 0 with every item (it is not normalized, 0/0 is
/// never formed): its own neighbours are the lowest-index items other than itself, and it is a
/// neighbour of others only through such ties.</para>
/// <para>k must lie in [1, items − 1]; a single item has no neighbours, so no k is valid for it.
/// k = items − 1 makes every other item a neighbour.</para>
/// </remarks>
public static class KnnGraph
{
    /// <summary>Builds S̃ for <paramref name="items"/> items from one or more modalities on the CPU.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, k is out of range, or a feature is NaN/Inf (the message names the modality, row and column).</exception>
    public static CsrMatrix Build(int items, IReadOnlyList<KnnModality> modalities, CpuOptions? options = null)
    {
        options ??= CpuOptions.Default;
        options.Validate();
        ValidateAll(items, modalities);
        return Assemble(items, modalities, m => TopKCpu(items, m, options));
    }

    // ComputeContext.BuildKnnGraph's body (the context holds its lock and has checked it is not disposed).
    internal static CsrMatrix Build(ComputeContext context, int items, IReadOnlyList<KnnModality> modalities)
    {
        ValidateAll(items, modalities);
        return Assemble(items, modalities, m => TopKOn(context, items, m));
    }

    /// <summary>Each item's top-k neighbours by cosine similarity (self excluded, ties to the lower index), best first: items × k indices.</summary>
    public static int[] TopK(int items, KnnModality modality, CpuOptions? options = null)
    {
        options ??= CpuOptions.Default;
        options.Validate();
        Validate(items, modality, 0, nameof(modality));
        return TopKCpu(items, modality, options);
    }

    // ComputeContext.KnnTopK's body (the context holds its lock and has checked it is not disposed).
    internal static int[] TopK(ComputeContext context, int items, KnnModality modality)
    {
        Validate(items, modality, 0, nameof(modality));
        return TopKOn(context, items, modality);
    }

    private static void ValidateAll(int items, IReadOnlyList<KnnModality> modalities)
    {
        ArgumentNullException.ThrowIfNull(modalities);
        ArgumentOutOfRangeException.ThrowIfNegative(items);
        if (modalities.Count == 0)
        {
            throw new ArgumentException("At least one modality is needed.", nameof(modalities));
        }
        for (int m = 0; m < modalities.Count; m++)
        {
            Validate(items, modalities[m], m, nameof(modalities));
        }
    }

    private static CsrMatrix Assemble(int items, IReadOnlyList<KnnModality> modalities, Func<KnnModality, int[]> topK)
    {
        var sources = new List<int>();
        var targets = new List<int>();
        foreach (KnnModality modality in modalities)
        {
            int[] neighbours = topK(modality);
            for (int i = 0; i < items; i++)
            {
                for (int r = 0; r < modality.K; r++)
                {
                    sources.Add(i);
                    targets.Add(neighbours[i * modality.K + r]);
                }
            }
        }
        return GraphBuilder.FromEdges(items, items, sources.ToArray(), targets.ToArray(), [], symmetrize: true, GraphNormalization.Symmetric);
    }

    private static void Validate(int items, KnnModality modality, int index, string paramName)
    {
        if (modality.Columns < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, modality.Columns, $"Modality {index}: the feature width must be at least 1.");
        }
        if (modality.Features.Length != (long)items * modality.Columns)
        {
            throw new ArgumentException($"Modality {index}: expected {items} × {modality.Columns} = {(long)items * modality.Columns} features, got {modality.Features.Length}.", paramName);
        }
        if (modality.K < 1 || modality.K > items - 1)
        {
            string why = items <= 1 ? $" ({items} item{(items == 1 ? " has" : "s have")} no neighbours)" : "";
            throw new ArgumentOutOfRangeException(paramName, modality.K, $"Modality {index}: k must lie in [1, items − 1 = {items - 1}]{why}.");
        }
        ReadOnlySpan<float> f = modality.Features.Span;
        for (int k = 0; k < f.Length; k++)
        {
            if (!float.IsFinite(f[k]))
            {
                throw new ArgumentException($"Modality {index}: feature at row {k / modality.Columns}, column {k % modality.Columns} is {f[k]}; features must be finite.", paramName);
            }
        }
    }

    /// <summary>
    /// <see cref="TopK(int, KnnModality, CpuOptions?)"/> or, with a context, its device twin, with a forced screening block
    /// height (tests run many blocks on small inputs; 0 = automatic). Arguments are validated.
    /// </summary>
    internal static int[] TopK(ComputeContext? context, int items, KnnModality modality, CpuOptions options, int blockRows)
    {
        options.Validate();
        Validate(items, modality, 0, nameof(modality));
        return context is null ? TopKCpu(items, modality, options, blockRows) : TopKOn(context, items, modality, blockRows);
    }

    private static int[] TopKCpu(int items, KnnModality modality, CpuOptions options, int blockRows = 0)
        => TopK(new CpuKnnGraph(options), options, items, modality, blockRows);

    private static int[] TopKOn(ComputeContext context, int items, KnnModality modality, int blockRows = 0)
        => TopK(context.Families.KnnGraph, context.CpuOptions, items, modality, blockRows);

    // Normalization and the exact float64 finish run on the host for every backend; the backend screens the blocks.
    private static int[] TopK(IKnnGraphBackend backend, CpuOptions host, int items, KnnModality modality, int blockRows)
    {
        SimdTier tier = SimdTiers.Resolve(host.Tier);
        int threads = host.EffectiveThreads;
        KnnRows rows = KnnExact.Normalize(modality.Features.Span, items, modality.Columns, modality.K, tier, threads);
        try
        {
            var candidates = new KnnCandidates(rows.Count, modality.K, modality.Columns);
            backend.Screen(rows, candidates, blockRows);
            return KnnExact.Finish(rows, items, modality.K, candidates, tier, threads);
        }
        finally
        {
            rows.Release();
        }
    }
}
