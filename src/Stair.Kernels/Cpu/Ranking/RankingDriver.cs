// The CPU full-ranking engine: users in blocks; per block one dense product S = U_block·Iᵀ
// into a per-thread buffer (the shared dense product, on the caller's thread), the block's
// excluded items set to −∞, then a streaming top-K per user. Each thread owns a fixed set of
// blocks and its own buffers; a user's list depends only on its scores, which the dense
// product makes independent of blocking and threads, so the result is deterministic.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Stair.Kernels.Cpu.Dense;

namespace Stair.Kernels.Cpu.Ranking;

[SkipLocalsInit]
internal sealed unsafe class RankingDriver : ParallelJob
{
    /// <summary>Users per block: one 96-row part of the dense product; 96 × 7,050 scores is 2.7 MB per thread.</summary>
    internal const int BlockUsers = 96;

    private readonly SimdTier _tier;
    private readonly float* _users, _items;
    private readonly int _userCount, _itemCount, _width, _k;
    private readonly ItemSets _excluded;
    private readonly int* _result;
    private readonly int _blocks;

    private RankingDriver(SimdTier tier, float* users, float* items, int userCount, int itemCount, int width, ItemSets excluded, int k, int* result, int threads)
    {
        _tier = tier;
        _users = users;
        _items = items;
        _userCount = userCount;
        _itemCount = itemCount;
        _width = width;
        _excluded = excluded;
        _k = k;
        _result = result;
        _blocks = (userCount + BlockUsers - 1) / BlockUsers;
        PartCount = Math.Max(1, Math.Min(threads, _blocks));
    }

    /// <summary>Writes each user's top k (arguments validated by the caller).</summary>
    public static void TopK(SimdTier tier, int threads, ReadOnlySpan<float> users, ReadOnlySpan<float> items, int width, ItemSets excluded, int k, Span<int> result)
    {
        if (excluded.Users == 0)
        {
            return;
        }
        fixed (float* u = users)
        fixed (float* i = items)
        fixed (int* r = result)
        {
            var job = new RankingDriver(tier, u, i, excluded.Users, excluded.Items, width, excluded, k, r, threads);
            CpuWorkerPool.Shared.Run(job, threads);
        }
    }

    // Part p takes blocks p, p + P, p + 2P, … with its own score buffer and top-K scratch.
    public override void Execute(int part)
    {
        int items = _itemCount, k = _k;
        float[] scores = GC.AllocateUninitializedArray<float>(BlockUsers * items, pinned: true);
        var bestScores = new float[k];
        var bestItems = new int[k];
        fixed (float* s = scores)
        {
            for (int block = part; block < _blocks; block += PartCount)
            {
                int first = block * BlockUsers, count = Math.Min(BlockUsers, _userCount - first);
                Scores(_users + (long)first * _width, count, s);
                for (int b = 0; b < count; b++)
                {
                    int user = first + b;
                    float* row = s + (long)b * items;
                    foreach (int item in _excluded.Row(user))
                    {
                        row[item] = float.NegativeInfinity;
                    }
                    SelectTopK(_tier, row, items, bestScores, bestItems);
                    bestItems.AsSpan().CopyTo(new Span<int>(_result + (long)user * k, k));
                }
            }
        }
    }

    // S = U_block · Iᵀ on this thread (the shared product; threads = 1 inside a pool job).
    private void Scores(float* users, int count, float* scores)
        => DenseProduct.MultiplyTransposed(_tier, 1, users, _width, _items, _width, scores, _itemCount, count, _itemCount, _width);

    /// <summary>
    /// The k largest of row[0 .. n), best first, ties to the lower index; −∞ and NaN never enter
    /// (their slots stay −∞ / −1). A candidate must beat the current k-th strictly, so a later
    /// equal score never displaces an earlier one. The vector tiers only skip blocks in which
    /// nothing beats the k-th, so every tier selects the same items.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SelectTopK(SimdTier tier, float* row, int n, Span<float> bestScores, Span<int> bestItems)
    {
        int k = bestScores.Length;
        bestScores.Fill(float.NegativeInfinity);
        bestItems.Fill(-1);
        float threshold = float.NegativeInfinity;
        int i = 0;
        if (tier == SimdTier.Avx512)
        {
            for (; i + 16 <= n; i += 16)
            {
                uint mask = (uint)Vector512.GreaterThan(Vector512.Load(row + i), Vector512.Create(threshold)).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int at = i + BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    if (row[at] > threshold)
                    {
                        threshold = Insert(row[at], at, bestScores, bestItems);
                    }
                }
            }
        }
        else if (tier == SimdTier.Avx2)
        {
            for (; i + 8 <= n; i += 8)
            {
                uint mask = (uint)Vector256.GreaterThan(Vector256.Load(row + i), Vector256.Create(threshold)).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int at = i + BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    if (row[at] > threshold)
                    {
                        threshold = Insert(row[at], at, bestScores, bestItems);
                    }
                }
            }
        }
        for (; i < n; i++)
        {
            if (row[i] > threshold)
            {
                threshold = Insert(row[i], i, bestScores, bestItems);
            }
        }
    }

    // Drops the k-th, places (score, item) after every entry with a score ≥ it; returns the new k-th score.
    private static float Insert(float score, int item, Span<float> bestScores, Span<int> bestItems)
    {
        int at = bestScores.Length - 1;
        while (at > 0 && score > bestScores[at - 1])
        {
            bestScores[at] = bestScores[at - 1];
            bestItems[at] = bestItems[at - 1];
            at--;
        }
        bestScores[at] = score;
        bestItems[at] = item;
        return bestScores[^1];
    }
}
