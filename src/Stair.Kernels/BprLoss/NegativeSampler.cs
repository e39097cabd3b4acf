// Negative sampling for BPR (kernels.md, BprLoss): for each user of a batch, an item drawn
// uniformly from the items that user has not interacted with in training. Counter-based: the
// draw at position p depends only on (seed, p, user), never on threads or on how a run is
// split into calls, so an epoch's negatives are reproducible from one seed.
namespace Stair.Kernels;

/// <summary>Draws items a user has not interacted with, uniformly and reproducibly.</summary>
/// <remarks>
/// Position p = <c>offset + k</c> of a call owns the random stream SplitMix64(mix(seed ⊕ mix(p))).
/// A user with at most half of all items in training is served by rejection (draw an item,
/// redraw while it is a training item: at most 2 draws expected; after 64 rejections, which
/// happens with probability below 2⁻⁶⁴, the exact method below takes over); a denser user by one draw
/// r in [0, I − deg) mapped past the sorted training items by binary search (the r-th item not
/// interacted with). A draw in [0, n) is the high half of the 128-bit product of a 64-bit draw and n: bias below n·2⁻⁶⁴.
/// A user who has interacted with every item has no negative: <see cref="Sample(ReadOnlySpan{int}, Span{int}, ulong, long)"/>
/// rejects the batch with an <see cref="ArgumentException"/> before writing anything.
/// </remarks>
public sealed class NegativeSampler
{
    private const int MaxRejections = 64;
    private const int ParallelThreshold = 16_384;
    private readonly ItemSets _training;

    /// <summary>Prepares the sampler from the training interactions.</summary>
    /// <param name="trainingInteractions">Users × items; an entry (u, i) marks a training interaction (values ignored; unsorted or repeated columns allowed).</param>
    public NegativeSampler(CsrMatrix trainingInteractions)
    {
        _training = new ItemSets(trainingInteractions, nameof(trainingInteractions));
    }

    /// <summary>Number of users.</summary>
    public int Users => _training.Users;

    /// <summary>Number of items.</summary>
    public int Items => _training.Items;

    /// <summary>Distinct training items of <paramref name="user"/>.</summary>
    public int Degree(int user)
    {
        if ((uint)user >= (uint)Users)
        {
            throw new ArgumentOutOfRangeException(nameof(user), user, $"User must lie in [0, {Users}).");
        }
        return _training.Count(user);
    }

    /// <summary>
    /// Writes one negative per user: <paramref name="negatives"/>[k] for <paramref name="users"/>[k] at position
    /// <paramref name="offset"/> + k of the stream of <paramref name="seed"/>.
    /// </summary>
    /// <param name="users">Users, each in [0, <see cref="Users"/>) with at least one item not interacted with.</param>
    /// <param name="negatives">Output, same length as <paramref name="users"/>.</param>
    /// <param name="seed">The stream (e.g. one per run; vary <paramref name="offset"/> per batch, or the seed per epoch).</param>
    /// <param name="offset">Position of the first draw (≥ 0): sampling a batch in two calls with offsets 0 and k gives the same items as one call.</param>
    public void Sample(ReadOnlySpan<int> users, Span<int> negatives, ulong seed, long offset = 0)
        => Sample(users, negatives, seed, offset, Cpu.CpuWorkerPool.Shared, Environment.ProcessorCount);

    /// <summary>As the public overload, on <paramref name="pool"/> with at most <paramref name="threads"/> threads (tests: the items must not depend on either).</summary>
    internal void Sample(ReadOnlySpan<int> users, Span<int> negatives, ulong seed, long offset, Cpu.CpuWorkerPool pool, int threads)
    {
        if (negatives.Length != users.Length)
        {
            throw new ArgumentException($"Expected one output per user ({users.Length}), got {negatives.Length}.", nameof(negatives));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        for (int k = 0; k < users.Length; k++)
        {
            int u = users[k];
            if ((uint)u >= (uint)Users)
            {
                throw new ArgumentOutOfRangeException(nameof(users), u, $"users[{k}] is {u}; users must lie in [0, {Users}).");
            }
            if (_training.Count(u) >= Items)
            {
                throw new ArgumentException($"users[{k}] is user {u}, who has interacted with all {Items} items: no negative exists.", nameof(users));
            }
        }
        if (users.Length < ParallelThreshold)
        {
            for (int k = 0; k < users.Length; k++)
            {
                negatives[k] = Draw(users[k], seed, offset + k);
            }
            return;
        }
        unsafe
        {
            fixed (int* u = users)
            fixed (int* n = negatives)
            {
                var job = new SampleJob(this, u, n, users.Length, seed, offset);
                pool.Run(job, threads);
            }
        }
    }

    /// <summary>The negative for <paramref name="user"/> at <paramref name="position"/> of the stream of <paramref name="seed"/>.</summary>
    public int Sample(int user, ulong seed, long position)
    {
        Span<int> result = stackalloc int[1];
        Sample([user], result, seed, position);
        return result[0];
    }

    private int Draw(int user, ulong seed, long position)
    {
        var rng = new SplitMix64(Mix(seed ^ Mix((ulong)position)));
        ReadOnlySpan<int> excluded = _training.Row(user);
        int items = Items;
        if (2 * (long)excluded.Length <= items)
        {
            for (int attempt = 0; attempt < MaxRejections; attempt++)
            {
                int item = Below(rng.NextUInt64(), items);
                if (!Contains(excluded, item))
                {
                    return item;
                }
            }
        }
        // The r-th item not in the sorted list: r + #{i : e_i − i ≤ r} (e_i − i never decreases).
        int r = Below(rng.NextUInt64(), items - excluded.Length);
        int lo = 0, hi = excluded.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (excluded[mid] - mid <= r)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return r + lo;
    }

    private static bool Contains(ReadOnlySpan<int> sorted, int item)
    {
        if (sorted.Length <= 16)
        {
            return sorted.Contains(item);
        }
        return sorted.BinarySearch(item) >= 0;
    }

    // The high 64 bits of the 128-bit product x·n: uniform in [0, n) up to a bias below n·2⁻⁶⁴.
    private static int Below(ulong x, int n) => (int)Math.BigMul(x, (ulong)n, out _);

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private sealed unsafe class SampleJob : Cpu.ParallelJob
    {
        private const int PerPart = 4096;
        private readonly NegativeSampler _owner;
        private readonly int* _users, _negatives;
        private readonly int _count;
        private readonly ulong _seed;
        private readonly long _offset;

        public SampleJob(NegativeSampler owner, int* users, int* negatives, int count, ulong seed, long offset)
        {
            _owner = owner;
            _users = users;
            _negatives = negatives;
            _count = count;
            _seed = seed;
            _offset = offset;
            PartCount = (count + PerPart - 1) / PerPart;
        }

        public override void Execute(int part)
        {
            int end = Math.Min(_count, (part + 1) * PerPart);
            for (int k = part * PerPart; k < end; k++)
            {
                _negatives[k] = _owner.Draw(_users[k], _seed, _offset + k);
            }
        }
    }
}
