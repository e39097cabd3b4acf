// Public entry points of full-ranking evaluation (kernels.md, Ranking): every item scored for
// every user in blocks of users (never users × items at once), the user's excluded items
// masked, a streaming top-K per user (ties to the lower item index), then Recall@K and NDCG@K
// for several K at once. ComputeContext.EvaluateRanking is the device-table twin.
using Stair.Kernels.Cpu.Ranking;

namespace Stair.Kernels;

/// <summary>What full ranking is measured against: per user, the items to leave out and the items that count as hits.</summary>
public sealed class RankingTargets
{
    /// <summary>Prepares the targets (rows are sorted and de-duplicated once, here).</summary>
    /// <param name="excluded">Users × items: items never ranked for a user (training items; plus validation items when testing). Values ignored.</param>
    /// <param name="relevant">Users × items: the held-out items that count as hits. Values ignored.</param>
    public RankingTargets(CsrMatrix excluded, CsrMatrix relevant)
    {
        ArgumentNullException.ThrowIfNull(excluded);
        ArgumentNullException.ThrowIfNull(relevant);
        if (relevant.Rows != excluded.Rows || relevant.Columns != excluded.Columns)
        {
            throw new ArgumentException($"The relevant matrix is {relevant.Rows} × {relevant.Columns}; the excluded one is {excluded.Rows} × {excluded.Columns}: both must be users × items.", nameof(relevant));
        }
        Excluded = new ItemSets(excluded, nameof(excluded));
        Relevant = new ItemSets(relevant, nameof(relevant));
    }

    /// <summary>Number of users.</summary>
    public int Users => Excluded.Users;

    /// <summary>Number of items.</summary>
    public int Items => Excluded.Items;

    internal ItemSets Excluded { get; }

    internal ItemSets Relevant { get; }
}

/// <summary>Recall@K and NDCG@K of a full ranking, averaged over the users with at least one relevant item.</summary>
/// <param name="Ks">The cut-offs, as requested.</param>
/// <param name="Recall">Recall@K per cut-off: hits in the top K / |relevant|.</param>
/// <param name="Ndcg">NDCG@K per cut-off: binary gains, DCG = Σ_{hit at rank r} 1/log2(r + 1), ideal DCG over min(|relevant|, K) ranks.</param>
/// <param name="UsersEvaluated">Users with at least one relevant item (the averages' denominator).</param>
/// <param name="UsersSkipped">Users without relevant items (left out of the averages).</param>
public sealed record RankingMetrics(IReadOnlyList<int> Ks, IReadOnlyList<double> Recall, IReadOnlyList<double> Ndcg, int UsersEvaluated, int UsersSkipped)
{
    /// <summary>Recall at cut-off <paramref name="k"/> (one of <see cref="Ks"/>).</summary>
    public double RecallAt(int k) => Recall[IndexOf(k)];

    /// <summary>NDCG at cut-off <paramref name="k"/> (one of <see cref="Ks"/>).</summary>
    public double NdcgAt(int k) => Ndcg[IndexOf(k)];

    private int IndexOf(int k)
    {
        for (int i = 0; i < Ks.Count; i++)
        {
            if (Ks[i] == k)
            {
                return i;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(k), k, $"K = {k} was not evaluated (evaluated: {string.Join(", ", Ks)}).");
    }
}

/// <summary>Full-ranking top-K and its metrics on the CPU, streamed in blocks of users.</summary>
/// <remarks>
/// Scores are dot products e_u·e_i from the shared dense product; excluded items are never
/// ranked; among equal scores the lower item index ranks first; a NaN or −∞ score is never
/// ranked. A user with fewer than K rankable items gets −1 in the remaining places (never a hit).
/// Memory is O(threads · block · items + users · K), never users × items.
/// </remarks>
public static class Ranking
{
    /// <summary>Each user's top <paramref name="k"/> items, best first: <paramref name="result"/>[u·k + r].</summary>
    /// <param name="userEmbeddings">U × <paramref name="width"/>, row-major.</param>
    /// <param name="itemEmbeddings">I × <paramref name="width"/>, row-major.</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="excluded">Users × items: items left out per user (values ignored).</param>
    /// <param name="k">1 ≤ k ≤ I.</param>
    /// <param name="result">U × k item indices (−1 where a user has fewer than k rankable items).</param>
    /// <param name="options">SIMD tier and threads.</param>
    public static void TopK(ReadOnlySpan<float> userEmbeddings, ReadOnlySpan<float> itemEmbeddings, int width, CsrMatrix excluded, int k,
        Span<int> result, CpuOptions? options = null)
    {
        options ??= CpuOptions.Default;
        options.Validate();
        ArgumentNullException.ThrowIfNull(excluded);
        ValidateTables(userEmbeddings, itemEmbeddings, width, excluded.Rows, excluded.Columns);
        ValidateK(k, excluded.Columns, nameof(k));
        if (result.Length != (long)excluded.Rows * k)
        {
            throw new ArgumentException($"Expected {excluded.Rows} × {k} = {(long)excluded.Rows * k} result slots, got {result.Length}.", nameof(result));
        }
        var sets = new ItemSets(excluded, nameof(excluded));
        RankingDriver.TopK(SimdTiers.Resolve(options.Tier), options.EffectiveThreads, userEmbeddings, itemEmbeddings, width, sets, k, result);
    }

    /// <summary>Recall@K and NDCG@K for every K in <paramref name="ks"/> at once.</summary>
    /// <param name="userEmbeddings">U × <paramref name="width"/>, row-major.</param>
    /// <param name="itemEmbeddings">I × <paramref name="width"/>, row-major.</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="targets">Excluded and relevant items per user (U × I).</param>
    /// <param name="ks">Cut-offs, each in [1, I].</param>
    /// <param name="options">SIMD tier and threads.</param>
    public static RankingMetrics Evaluate(ReadOnlySpan<float> userEmbeddings, ReadOnlySpan<float> itemEmbeddings, int width, RankingTargets targets,
        ReadOnlySpan<int> ks, CpuOptions? options = null)
    {
        options ??= CpuOptions.Default;
        options.Validate();
        ArgumentNullException.ThrowIfNull(targets);
        ValidateTables(userEmbeddings, itemEmbeddings, width, targets.Users, targets.Items);
        int kMax = ValidateKs(ks, targets.Items);
        return EvaluateUnchecked(userEmbeddings, itemEmbeddings, width, targets, ks, kMax, SimdTiers.Resolve(options.Tier), options.EffectiveThreads);
    }

    // The body of Evaluate for arguments already checked (by Evaluate or by ComputeContext); kMax is the largest cut-off.
    internal static RankingMetrics EvaluateUnchecked(ReadOnlySpan<float> userEmbeddings, ReadOnlySpan<float> itemEmbeddings, int width,
        RankingTargets targets, ReadOnlySpan<int> ks, int kMax, SimdTier tier, int threads)
    {
        var lists = new int[(long)targets.Users * kMax];
        RankingDriver.TopK(tier, threads, userEmbeddings, itemEmbeddings, width, targets.Excluded, kMax, lists);
        return Metrics(lists, kMax, targets.Relevant, ks);
    }

    /// <summary>Recall@K and NDCG@K from ranked lists (users × listLength, best first), summed over users in order.</summary>
    internal static RankingMetrics Metrics(ReadOnlySpan<int> lists, int listLength, ItemSets relevant, ReadOnlySpan<int> ks)
    {
        var recall = new double[ks.Length];
        var ndcg = new double[ks.Length];
        int evaluated = 0, skipped = 0;
        int kMax = 0;
        foreach (int k in ks)
        {
            kMax = Math.Max(kMax, k);
        }
        var discount = new double[kMax + 1]; // discount[r] = Σ_{q<r} 1/log2(q + 2): ideal DCG of r hits
        for (int r = 0; r < kMax; r++)
        {
            discount[r + 1] = discount[r] + 1 / Math.Log2(r + 2);
        }
        for (int u = 0; u < relevant.Users; u++)
        {
            ReadOnlySpan<int> rel = relevant.Row(u);
            if (rel.IsEmpty)
            {
                skipped++;
                continue;
            }
            evaluated++;
            ReadOnlySpan<int> list = lists.Slice(u * listLength, listLength);
            for (int c = 0; c < ks.Length; c++)
            {
                int k = ks[c], hits = 0;
                double dcg = 0;
                for (int r = 0; r < k; r++)
                {
                    if (list[r] >= 0 && rel.BinarySearch(list[r]) >= 0)
                    {
                        hits++;
                        dcg += 1 / Math.Log2(r + 2);
                    }
                }
                recall[c] += (double)hits / rel.Length;
                ndcg[c] += dcg / discount[Math.Min(rel.Length, k)];
            }
        }
        for (int c = 0; c < ks.Length; c++)
        {
            recall[c] = evaluated == 0 ? 0 : recall[c] / evaluated;
            ndcg[c] = evaluated == 0 ? 0 : ndcg[c] / evaluated;
        }
        return new RankingMetrics(ks.ToArray(), recall, ndcg, evaluated, skipped);
    }

    internal static void ValidateTables(ReadOnlySpan<float> users, ReadOnlySpan<float> items, int width, int userCount, int itemCount)
    {
        if (width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "Width d must be at least 1.");
        }
        if (users.Length != (long)userCount * width)
        {
            throw new ArgumentException($"Expected a {userCount} × {width} user table ({(long)userCount * width} floats), got {users.Length} floats.", "userEmbeddings");
        }
        if (items.Length != (long)itemCount * width)
        {
            throw new ArgumentException($"Expected a {itemCount} × {width} item table ({(long)itemCount * width} floats), got {items.Length} floats.", "itemEmbeddings");
        }
    }

    internal static void ValidateK(int k, int items, string name)
    {
        if (k < 1 || k > items)
        {
            throw new ArgumentOutOfRangeException(name, k, $"K must lie in [1, {items}] (the number of items).");
        }
    }

    /// <summary>Checks every cut-off and returns the largest.</summary>
    internal static int ValidateKs(ReadOnlySpan<int> ks, int items)
    {
        if (ks.IsEmpty)
        {
            throw new ArgumentException("At least one cut-off K is needed.", nameof(ks));
        }
        int kMax = 0;
        for (int c = 0; c < ks.Length; c++)
        {
            if (ks[c] < 1 || ks[c] > items)
            {
                throw new ArgumentOutOfRangeException(nameof(ks), ks[c], $"ks[{c}] is {ks[c]}; each K must lie in [1, {items}] (the number of items).");
            }
            kMax = Math.Max(kMax, ks[c]);
        }
        return kMax;
    }
}
