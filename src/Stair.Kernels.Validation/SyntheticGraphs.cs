// Deterministic synthetic interaction data shaped like the paper's data sets, for
// benchmarks, validation and tests: power-law user activity and item popularity, so the
// graphs have hubs, long tails and isolated nodes like the real ones.
using System.Runtime.InteropServices;

namespace Stair.Kernels;

/// <summary>The size of a user–item data set.</summary>
/// <param name="Name">A short name.</param>
/// <param name="Users">Number of users.</param>
/// <param name="Items">Number of items.</param>
/// <param name="Interactions">Number of distinct training interactions.</param>
public sealed record DatasetShape(string Name, int Users, int Items, int Interactions)
{
    /// <summary>Amazon Baby's training split: 19,445 users, 7,050 items, ~128,600 interactions.</summary>
    public static DatasetShape Baby { get; } = new("baby", 19_445, 7_050, 128_600);

    /// <summary>Amazon Electronics' training split: 192,403 users, 63,001 items, ~1,351,000 interactions.</summary>
    public static DatasetShape Electronics { get; } = new("electronics", 192_403, 63_001, 1_351_000);

    /// <summary>Nodes of the user–item graph (users + items).</summary>
    public int Nodes => Users + Items;
}

/// <summary>Seeded generators of power-law interaction data.</summary>
public static class SyntheticGraphs
{
    /// <summary>
    /// Draws <paramref name="interactions"/> distinct (user, item) pairs: users with probability
    /// ∝ rank^−<paramref name="userExponent"/>, items ∝ rank^−<paramref name="itemExponent"/>, ranks
    /// shuffled over the ids. The same arguments always give the same pairs, in the same order.
    /// </summary>
    /// <param name="users">Number of users (≥ 1).</param>
    /// <param name="items">Number of items (≥ 1).</param>
    /// <param name="interactions">Distinct pairs wanted; at most users × items / 2.</param>
    /// <param name="seed">Random seed.</param>
    /// <param name="userExponent">Power-law exponent of user activity (≥ 0).</param>
    /// <param name="itemExponent">Power-law exponent of item popularity (≥ 0).</param>
    public static (int[] UserIds, int[] ItemIds) PowerLawInteractions(int users, int items, int interactions, ulong seed,
        double userExponent = 0.8, double itemExponent = 0.9)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(interactions);
        if (interactions > (long)users * items / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(interactions), interactions, "At most half of all user–item pairs can be drawn.");
        }
        if (!(userExponent >= 0) || !(itemExponent >= 0) || double.IsInfinity(userExponent) || double.IsInfinity(itemExponent))
        {
            throw new ArgumentOutOfRangeException(nameof(userExponent), "Exponents must be finite and non-negative.");
        }
        var rng = new SplitMix64(seed);
        double[] userCdf = PowerLawCdf(users, userExponent);
        double[] itemCdf = PowerLawCdf(items, itemExponent);
        int[] userOfRank = Permutation(users, ref rng);
        int[] itemOfRank = Permutation(items, ref rng);

        var seen = new HashSet<long>(interactions);
        var u = new int[interactions];
        var i = new int[interactions];
        int count = 0;
        while (count < interactions)
        {
            int user = userOfRank[Sample(userCdf, rng.NextDouble())];
            int item = itemOfRank[Sample(itemCdf, rng.NextDouble())];
            if (seen.Add(((long)user << 32) | (uint)item))
            {
                u[count] = user;
                i[count] = item;
                count++;
            }
        }
        return (u, i);
    }

    /// <summary>
    /// About <paramref name="interactions"/> distinct (user, item) pairs for graphs too large for
    /// <see cref="PowerLawInteractions"/>' global rejection (which needs ever more draws as the popular pairs fill up):
    /// user u's degree is its share of <paramref name="interactions"/> under weights rank^−<paramref name="userExponent"/>
    /// (rounded up or down at random to keep the expected total, at most a quarter of the items), and each user's items
    /// are drawn ∝ rank^−<paramref name="itemExponent"/> without repeats (Walker's alias method, O(1) per draw). Ranks are
    /// shuffled over the ids; pairs come grouped by user. Users are dealt in parallel blocks with seeds of their own, so
    /// the same arguments always give the same pairs, in the same order, on any number of cores.
    /// </summary>
    /// <param name="users">Number of users (≥ 1).</param>
    /// <param name="items">Number of items (≥ 1).</param>
    /// <param name="interactions">Expected number of pairs (≥ 0; the result holds within a fraction of a percent of
    /// it unless the degree cap binds).</param>
    /// <param name="seed">Random seed.</param>
    /// <param name="userExponent">Power-law exponent of user activity (≥ 0).</param>
    /// <param name="itemExponent">Power-law exponent of item popularity (≥ 0).</param>
    public static (int[] UserIds, int[] ItemIds) PowerLawInteractionsAtScale(int users, int items, long interactions, ulong seed,
        double userExponent = 0.8, double itemExponent = 0.9)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(interactions);
        if (!(userExponent >= 0) || !(itemExponent >= 0) || double.IsInfinity(userExponent) || double.IsInfinity(itemExponent))
        {
            throw new ArgumentOutOfRangeException(nameof(userExponent), "Exponents must be finite and non-negative.");
        }
        var rng = new SplitMix64(seed);
        int[] userOfRank = Permutation(users, ref rng);
        int[] itemOfRank = Permutation(items, ref rng);
        (double[] itemKeep, int[] itemAlias) = AliasTable(items, itemExponent);
        double weightSum = 0;
        for (int r = 0; r < users; r++)
        {
            weightSum += Math.Pow(r + 1, -userExponent);
        }
        int cap = Math.Max(1, items / 4);
        var degreeOfRank = new int[users];
        long total = 0;
        for (int r = 0; r < users; r++)
        {
            double expected = interactions * Math.Pow(r + 1, -userExponent) / weightSum;
            long degree = (long)expected + (rng.NextDouble() < expected - Math.Floor(expected) ? 1 : 0);
            degreeOfRank[r] = (int)Math.Min(degree, cap);
            total += degreeOfRank[r];
        }
        if (total > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(interactions), interactions, $"{total:N0} pairs exceed the largest array .NET can hold.");
        }
        var start = new long[users + 1];
        for (int r = 0; r < users; r++)
        {
            start[r + 1] = start[r] + degreeOfRank[r];
        }
        var u = new int[total];
        var i = new int[total];
        const int Block = 4096; // users per block
        int blocks = (users + Block - 1) / Block;
        ulong blockSeed = rng.NextUInt64();
        Parallel.For(0, blocks, () => new int[items], (b, _, takenBy) =>
        {
            var local = new SplitMix64(blockSeed + 0x9E3779B97F4A7C15UL * (ulong)b);
            for (int r = b * Block, end = Math.Min(users, r + Block); r < end; r++)
            {
                int user = userOfRank[r];
                int stamp = r + 1; // takenBy[item] == r + 1: this user already has the item (no clearing between users)
                for (long k = start[r]; k < start[r + 1]; k++)
                {
                    int item;
                    do
                    {
                        item = itemOfRank[AliasDraw(itemKeep, itemAlias, ref local)];
                    }
                    while (takenBy[item] == stamp);
                    takenBy[item] = stamp;
                    u[k] = user;
                    i[k] = item;
                }
            }
            return takenBy;
        }, _ => { });
        return (u, i);
    }

    /// <summary>The normalized user–item adjacency Ã of a synthetic data set of the given shape.</summary>
    public static CsrMatrix Adjacency(DatasetShape shape, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(shape);
        (int[] u, int[] i) = PowerLawInteractions(shape.Users, shape.Items, shape.Interactions, seed);
        return GraphBuilder.UserItemAdjacency(shape.Users, shape.Items, u, i);
    }

    /// <summary>
    /// A general (non-symmetric, possibly rectangular) sparse matrix for checking kernels: row
    /// lengths follow a power law, about a fifth of the rows are empty, one row in fifty is a hub
    /// with up to a quarter of all columns, values uniform in [−1, 1).
    /// </summary>
    /// <param name="rows">Number of rows (≥ 0).</param>
    /// <param name="columns">Number of columns (≥ 1 when rows > 0).</param>
    /// <param name="seed">Random seed.</param>
    public static CsrMatrix PowerLawMatrix(int rows, int columns, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (rows > 0 && columns == 0)
        {
            return new CsrMatrix(rows, 0, new int[rows + 1], [], []);
        }
        var rng = new SplitMix64(seed);
        var ptr = new int[rows + 1];
        var cols = new List<int>();
        var vals = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            double p = rng.NextDouble();
            int degree = p < 0.2 ? 0
                : p < 0.22 ? 1 + (int)(rng.NextDouble() * Math.Max(1, columns / 4))
                : Math.Min(columns, (int)(1 / Math.Pow(rng.NextDouble() + 1e-3, 0.7)));
            for (int k = 0; k < degree; k++)
            {
                cols.Add((int)(rng.NextUInt64() % (ulong)columns));
                vals.Add((float)(2 * rng.NextDouble() - 1));
            }
            ptr[r + 1] = cols.Count;
        }
        return new CsrMatrix(rows, columns, ptr, CollectionsMarshal.AsSpan(cols), CollectionsMarshal.AsSpan(vals));
    }

    /// <summary>A table of <paramref name="count"/> floats uniform in [−1, 1), from <paramref name="seed"/>.</summary>
    public static float[] UniformTable(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var rng = new SplitMix64(seed);
        var table = new float[count];
        for (int k = 0; k < table.Length; k++)
        {
            table[k] = (float)(2 * rng.NextDouble() - 1);
        }
        return table;
    }

    private static double[] PowerLawCdf(int n, double exponent)
    {
        var cdf = new double[n];
        double sum = 0;
        for (int r = 0; r < n; r++)
        {
            sum += Math.Pow(r + 1, -exponent);
            cdf[r] = sum;
        }
        for (int r = 0; r < n; r++)
        {
            cdf[r] /= sum;
        }
        return cdf;
    }

    // Walker's alias table (Vose's construction) of ranks 0..n−1 weighted (r + 1)^−exponent: a draw picks a
    // rank uniformly, keeps it with probability keep[r] and otherwise takes alias[r].
    private static (double[] Keep, int[] Alias) AliasTable(int n, double exponent)
    {
        var keep = new double[n];
        var alias = new int[n];
        double sum = 0;
        for (int r = 0; r < n; r++)
        {
            sum += Math.Pow(r + 1, -exponent);
        }
        var small = new int[n];
        var large = new int[n];
        int smalls = 0, larges = 0;
        for (int r = 0; r < n; r++)
        {
            keep[r] = Math.Pow(r + 1, -exponent) * n / sum;
            if (keep[r] < 1)
            {
                small[smalls++] = r;
            }
            else
            {
                large[larges++] = r;
            }
        }
        while (smalls > 0 && larges > 0)
        {
            int s = small[--smalls], l = large[larges - 1];
            alias[s] = l;
            keep[l] -= 1 - keep[s];
            if (keep[l] < 1)
            {
                larges--;
                small[smalls++] = l;
            }
        }
        while (larges > 0)
        {
            keep[large[--larges]] = 1;
        }
        while (smalls > 0)
        {
            keep[small[--smalls]] = 1; // rounding leftovers
        }
        return (keep, alias);
    }

    private static int AliasDraw(double[] keep, int[] alias, ref SplitMix64 rng)
    {
        ulong bits = rng.NextUInt64();
        int r = (int)((bits >> 32) * (ulong)keep.Length >> 32);
        double coin = (uint)bits * (1.0 / 4294967296.0);
        return coin < keep[r] ? r : alias[r];
    }

    private static int Sample(double[] cdf, double p)
    {
        int index = Array.BinarySearch(cdf, p);
        index = index < 0 ? ~index : index;
        return Math.Min(index, cdf.Length - 1);
    }

    private static int[] Permutation(int n, ref SplitMix64 rng)
    {
        var p = new int[n];
        for (int k = 0; k < n; k++)
        {
            p[k] = k;
        }
        for (int k = n - 1; k > 0; k--)
        {
            int m = (int)(rng.NextUInt64() % (ulong)(k + 1));
            (p[k], p[m]) = (p[m], p[k]);
        }
        return p;
    }
}
