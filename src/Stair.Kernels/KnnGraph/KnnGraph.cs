// The item–item modality kNN graph of STAIR-KERNELS.md §1 on the CPU: per modality, cosine
// similarity of L2-normalized rows, the item itself excluded, top-k per row (ties to the
// lower index) as directed edges of weight 1; modalities united by summing weights, made
// undirected by max, then S̃ = D^{-1/2} W D^{-1/2}. The similarity is streamed row by row
// against column blocks with a bounded top-k per row: memory O(I·k + block), never I × I.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stair.Kernels;

/// <summary>One modality's features and its neighbour count.</summary>
/// <param name="Features">Row-major items × <paramref name="Columns"/> float32 features.</param>
/// <param name="Columns">Feature width F (≥ 1).</param>
/// <param name="K">Neighbours per item (1 ≤ k ≤ items − 1).</param>
public readonly record struct KnnModality(ReadOnlyMemory<float> Features, int Columns, int K);

/// <summary>Builds the symmetric-normalized modality kNN graph S̃ (STAIR-KERNELS.md §1).</summary>
/// <remarks>
/// A zero feature row has cosine similarity 0 with every item (it is not normalized, 0/0 is
/// never formed): its own neighbours are the lowest-index items with the highest similarity
/// (ties to the lower index), and it is a neighbour of others only through such ties.
/// Similarities are computed in float32 with sixteen partial sums in a fixed order, so every
/// SIMD tier and thread count produces the same graph.
/// </remarks>
public static class KnnGraph
{
    /// <summary>Builds S̃ for <paramref name="items"/> items from one or more modalities.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, k is out of range, or a feature is NaN/Inf (the message names the modality, row and column).</exception>
    public static CsrMatrix Build(int items, IReadOnlyList<KnnModality> modalities, CpuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(modalities);
        ArgumentOutOfRangeException.ThrowIfNegative(items);
        options ??= CpuOptions.Default;
        options.Validate();
        SimdTier tier = SimdTiers.Resolve(options.Tier);
        if (modalities.Count == 0)
        {
            throw new ArgumentException("At least one modality is needed.", nameof(modalities));
        }
        for (int m = 0; m < modalities.Count; m++)
        {
            Validate(items, modalities[m], m, nameof(modalities));
        }

        var sources = new List<int>();
        var targets = new List<int>();
        foreach (KnnModality modality in modalities)
        {
            int[] neighbours = TopK(items, modality, tier, options.EffectiveThreads);
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

    /// <summary>Each item's top-k neighbours by cosine similarity (self excluded, ties to the lower index), best first: items × k indices.</summary>
    public static int[] TopK(int items, KnnModality modality, CpuOptions? options = null)
    {
        options ??= CpuOptions.Default;
        options.Validate();
        Validate(items, modality, 0, nameof(modality));
        return TopK(items, modality, SimdTiers.Resolve(options.Tier), options.EffectiveThreads);
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
            throw new ArgumentOutOfRangeException(paramName, modality.K, $"Modality {index}: k must lie in [1, items − 1 = {items - 1}].");
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

    private static int[] TopK(int items, KnnModality modality, SimdTier tier, int threads)
    {
        int width = modality.Columns, k = modality.K;
        float[] normalized = Normalize(modality.Features.Span, items, width, tier);
        var result = new int[items * k];
        Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => (new float[k], new int[k]), (i, _, scratch) =>
        {
            (float[] bestScore, int[] bestIndex) = scratch;
            int count = 0;
            ReadOnlySpan<float> row = normalized.AsSpan(i * width, width);
            for (int j = 0; j < items; j++)
            {
                if (j == i)
                {
                    continue;
                }
                float s = Dot(row, normalized.AsSpan(j * width, width), tier);
                // Keep the k best, best first; j only grows, so on an equal score the earlier (lower) index stays ahead.
                if (count == k && !(s > bestScore[k - 1]))
                {
                    continue;
                }
                int at = count < k ? count++ : k - 1;
                while (at > 0 && s > bestScore[at - 1])
                {
                    bestScore[at] = bestScore[at - 1];
                    bestIndex[at] = bestIndex[at - 1];
                    at--;
                }
                bestScore[at] = s;
                bestIndex[at] = j;
            }
            bestIndex.AsSpan(0, k).CopyTo(result.AsSpan(i * k, k));
            return scratch;
        }, _ => { });
        return result;
    }

    // Rows scaled to unit length (norm from the same fixed-order dot); zero rows stay zero.
    private static float[] Normalize(ReadOnlySpan<float> features, int items, int width, SimdTier tier)
    {
        float[] normalized = features.ToArray();
        for (int i = 0; i < items; i++)
        {
            Span<float> row = normalized.AsSpan(i * width, width);
            float norm = MathF.Sqrt(Dot(row, row, tier));
            if (norm > 0f)
            {
                for (int c = 0; c < width; c++)
                {
                    row[c] /= norm;
                }
            }
        }
        return normalized;
    }

    /// <summary>
    /// Dot product with sixteen partial sums: lane l accumulates elements l, l + 16, … by FMA, the
    /// tail element by element into its lane, then the lanes are added in a fixed tree. Every tier
    /// performs exactly these operations, so the result is the same bits on each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, SimdTier tier)
    {
        int n = a.Length, full = n - n % 16;
        Span<float> lanes = stackalloc float[16];
        if (tier == SimdTier.Avx512)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (int c = 0; c < full; c += 16)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(c, 16)), Vector512.Create(b.Slice(c, 16)), acc);
            }
            acc.CopyTo(lanes);
        }
        else if (tier == SimdTier.Avx2)
        {
            Vector256<float> lo = Vector256<float>.Zero, hi = lo;
            for (int c = 0; c < full; c += 16)
            {
                lo = Vector256.FusedMultiplyAdd(Vector256.Create(a.Slice(c, 8)), Vector256.Create(b.Slice(c, 8)), lo);
                hi = Vector256.FusedMultiplyAdd(Vector256.Create(a.Slice(c + 8, 8)), Vector256.Create(b.Slice(c + 8, 8)), hi);
            }
            lo.CopyTo(lanes);
            hi.CopyTo(lanes[8..]);
        }
        else
        {
            lanes.Clear();
            for (int c = 0; c < full; c += 16)
            {
                for (int l = 0; l < 16; l++)
                {
                    lanes[l] = MathF.FusedMultiplyAdd(a[c + l], b[c + l], lanes[l]);
                }
            }
        }
        for (int c = full; c < n; c++)
        {
            lanes[c - full] = MathF.FusedMultiplyAdd(a[c], b[c], lanes[c - full]);
        }
        for (int half = 8; half >= 1; half /= 2)
        {
            for (int l = 0; l < half; l++)
            {
                lanes[l] += lanes[l + half];
            }
        }
        return lanes[0];
    }
}
