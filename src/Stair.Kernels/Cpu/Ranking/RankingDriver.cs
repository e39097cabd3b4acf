// The CPU full-ranking engine: users in blocks; per block one dense product S = U_block·Iᵀ
// into a per-thread buffer (the shared dense product, on the caller's thread), the block's
// excluded items set to −∞, then a streaming top-K per user. Each thread owns a fixed set of
// blocks and its own buffers; a user's list depends only on its scores, which the dense
// product makes independent of blocking and threads, so the result is deterministic.
using System.Numerics;
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Dense;
using Stair.Kernels.Cpu.Simd;

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
    internal static void SelectTopK(SimdTier tier, float* row, int n, Span<float> bestScores, Span<int> bestItems)
    {
        var kernel = new SelectKernel(row, n, bestScores, bestItems);
        SimdDispatch.Run(tier, ref kernel);
    }

    private ref struct SelectKernel(float* row, int n, Span<float> bestScores, Span<int> bestItems) : ISimdKernel
    {
        private readonly Span<float> _bestScores = bestScores;
        private readonly Span<int> _bestItems = bestItems;

        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
            => SelectTopK<TVec>(row, n, _bestScores, _bestItems);
    }

    // Chunks of the tier's width: a mask of the scores above the current k-th, each hit re-tested (the k-th rises as
    // hits go in); the rest one by one.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SelectTopK<TVec>(float* row, int n, Span<float> bestScores, Span<int> bestItems)
        where TVec : struct, IFloatVector<TVec>
    {
        bestScores.Fill(float.NegativeInfinity);
        bestItems.Fill(-1);
        float threshold = float.NegativeInfinity;
        int i = 0;
        if (TVec.Count > 1)
        {
            for (; i + TVec.Count <= n; i += TVec.Count)
            {
                ulong mask = TVec.GreaterThanMask(TVec.Load(row + i), TVec.Splat(threshold));
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

/// <summary>Masks and selects the top k of score rows computed elsewhere (the device path): rows split among threads.</summary>
internal sealed unsafe class ScoreRowsTopKJob : ParallelJob
{
    private readonly SimdTier _tier;
    private readonly float* _scores;
    private readonly int _count, _items, _firstUser, _k;
    private readonly ItemSets _excluded;
    private readonly int* _result;

    public ScoreRowsTopKJob(SimdTier tier, float* scores, int count, int items, ItemSets excluded, int firstUser, int k, int* result, int threads)
    {
        _tier = tier;
        _scores = scores;
        _count = count;
        _items = items;
        _excluded = excluded;
        _firstUser = firstUser;
        _k = k;
        _result = result;
        PartCount = Math.Max(1, Math.Min(threads, count));
    }

    public override void Execute(int part)
    {
        var bestScores = new float[_k];
        var bestItems = new int[_k];
        int begin = (int)((long)_count * part / PartCount), end = (int)((long)_count * (part + 1) / PartCount);
        for (int b = begin; b < end; b++)
        {
            int user = _firstUser + b;
            float* row = _scores + (long)b * _items;
            foreach (int item in _excluded.Row(user))
            {
                row[item] = float.NegativeInfinity;
            }
            RankingDriver.SelectTopK(_tier, row, _items, bestScores, bestItems);
            bestItems.AsSpan().CopyTo(new Span<int>(_result + (long)user * _k, _k));
        }
    }
}
