// NegativeSampler: never a training item, reproducible from the seed whatever the call split
// or thread count, uniform over the allowed items (chi-square with a fixed seed, both the
// rejection and the binary-search paths), and bad users rejected before anything is written.
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.BprLoss;

public class NegativeSamplerTests
{
    // User 0: 3 items (rejection path); user 1: 45 of 50 (mapping path); user 2: none; user 3: all
    // but item 17; user 4: all 50 items; user 5: item 0 twice and 49 (unsorted, repeated columns).
    private static CsrMatrix Training()
    {
        var rows = new List<int[]>
        {
            new[] { 40, 3, 11 },
            Enumerable.Range(0, 50).Where(i => i % 10 != 4).ToArray(),
            Array.Empty<int>(),
            Enumerable.Range(0, 50).Where(i => i != 17).Reverse().ToArray(),
            Enumerable.Range(0, 50).ToArray(),
            new[] { 49, 0, 0 },
        };
        var ptr = new List<int> { 0 };
        var cols = new List<int>();
        foreach (int[] r in rows)
        {
            cols.AddRange(r);
            ptr.Add(cols.Count);
        }
        return new CsrMatrix(rows.Count, 50, ptr.ToArray(), cols.ToArray(), Enumerable.Repeat(1f, cols.Count).ToArray());
    }

    [Fact]
    public void Never_returns_a_training_item()
    {
        var sampler = new NegativeSampler(Training());
        int[] users = Enumerable.Range(0, 6000).Select(k => new[] { 0, 1, 2, 3, 5 }[k % 5]).ToArray();
        var negatives = new int[users.Length];
        sampler.Sample(users, negatives, seed: 42);
        CsrMatrix training = Training();
        for (int k = 0; k < users.Length; k++)
        {
            int u = users[k];
            Assert.InRange(negatives[k], 0, 49);
            Assert.DoesNotContain(negatives[k], training.ColumnIndices[training.RowPointers[u]..training.RowPointers[u + 1]].ToArray());
        }
        Assert.All(negatives.Where((_, k) => users[k] == 3), i => Assert.Equal(17, i));
    }

    [Fact]
    public void Power_law_training_data_never_yields_a_training_item()
    {
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractions(300, 120, 6000, seed: 3);
        var training = new CsrMatrix(300, 120, RowPointers(u, 300), Columns(u, i), Enumerable.Repeat(1f, u.Length).ToArray());
        var sampler = new NegativeSampler(training);
        Assert.Contains(Enumerable.Range(0, 300), user => 2 * sampler.Degree(user) > 120); // some dense users take the mapping path
        var seen = new HashSet<long>(u.Zip(i, (a, b) => ((long)a << 32) | (uint)b));
        int[] users = Enumerable.Range(0, 30_000).Select(k => k % 300).Where(k => sampler.Degree(k) < 120).ToArray();
        var negatives = new int[users.Length];
        sampler.Sample(users, negatives, seed: 1); // ≥ 16,384: the parallel path
        for (int k = 0; k < users.Length; k++)
        {
            Assert.False(seen.Contains(((long)users[k] << 32) | (uint)negatives[k]), $"position {k}: user {users[k]} got training item {negatives[k]}");
        }
    }

    [Fact]
    public void Is_reproducible_whatever_the_split_of_the_calls()
    {
        var sampler = new NegativeSampler(Training());
        int[] users = Enumerable.Range(0, 20_000).Select(k => new[] { 0, 1, 5 }[k % 3]).ToArray();
        var whole = new int[users.Length];
        sampler.Sample(users, whole, seed: 7); // parallel
        var pieces = new int[users.Length];
        for (int start = 0; start < users.Length; start += 999)
        {
            int count = Math.Min(999, users.Length - start);
            sampler.Sample(users.AsSpan(start, count), pieces.AsSpan(start, count), seed: 7, offset: start); // sequential
        }
        Assert.Equal(whole, pieces);
        Assert.Equal(whole[123], sampler.Sample(users[123], seed: 7, position: 123));
        var other = new int[users.Length];
        sampler.Sample(users, other, seed: 8);
        Assert.NotEqual(whole, other);
    }

    // The sampler takes no thread count (its parallel path uses every core of the shared pool), so
    // "across thread counts" is shown two ways: the parallel path equals one draw at a time on the
    // calling thread (1 thread), and four callers sharing the pool at once (each caller claims parts
    // itself, so how many threads serve a call and which parts each takes vary) get the same items.
    [Fact]
    public void Gives_the_same_items_on_one_thread_and_on_a_contended_pool()
    {
        var sampler = new NegativeSampler(Training());
        int[] users = Enumerable.Range(0, 40_000).Select(k => new[] { 0, 1, 2, 3, 5 }[(k * 7) % 5]).ToArray();
        var single = new int[users.Length];
        for (int k = 0; k < users.Length; k++)
        {
            single[k] = sampler.Sample(users[k], seed: 99, position: 1000 + k);
        }
        var results = new int[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, c =>
        {
            results[c] = new int[users.Length];
            for (int repeat = 0; repeat < 3; repeat++)
            {
                sampler.Sample(users, results[c], seed: 99, offset: 1000);
            }
        });
        for (int c = 0; c < 4; c++)
        {
            int k = Enumerable.Range(0, users.Length).FirstOrDefault(k => single[k] != results[c][k], -1);
            Assert.True(k < 0, $"caller {c}: position {k} drew item {(k < 0 ? 0 : results[c][k])}, one draw at a time gave {(k < 0 ? 0 : single[k])}");
        }
    }

    // The same claim with the thread count explicit: the parallel path on private pools of 1, 2 and 3
    // workers, run with 1, 2 and 3 threads (and a worker count below the thread count), against one
    // draw at a time on the calling thread.
    [Fact]
    public void Gives_the_same_items_on_every_thread_count()
    {
        var sampler = new NegativeSampler(Training());
        int[] users = Enumerable.Range(0, 40_000).Select(k => new[] { 0, 1, 2, 3, 5 }[(k * 3) % 5]).ToArray();
        var single = new int[users.Length];
        for (int k = 0; k < users.Length; k++)
        {
            single[k] = sampler.Sample(users[k], seed: 41, position: 77 + k);
        }
        foreach (int workers in new[] { 0, 1, 2 })
        {
            var pool = new Stair.Kernels.Cpu.CpuWorkerPool(workers, spinMicroseconds: 0);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var negatives = new int[users.Length];
                sampler.Sample(users, negatives, seed: 41, offset: 77, pool, threads);
                int k = Enumerable.Range(0, users.Length).FirstOrDefault(k => single[k] != negatives[k], -1);
                Assert.True(k < 0, $"{workers + 1} threads in the pool, {threads} requested: position {k} drew item {(k < 0 ? 0 : negatives[k])}, one draw at a time gave {(k < 0 ? 0 : single[k])}");
            }
        }
    }

    [Theory]
    [InlineData(0)] // 3 excluded of 50: rejection
    [InlineData(1)] // 45 excluded of 50: binary search past the excluded items
    [InlineData(2)] // nothing excluded
    public void Is_uniform_over_the_allowed_items(int user)
    {
        var sampler = new NegativeSampler(Training());
        CsrMatrix training = Training();
        var excluded = new HashSet<int>(training.ColumnIndices[training.RowPointers[user]..training.RowPointers[user + 1]].ToArray());
        int allowed = 50 - excluded.Count;
        const int draws = 40_000;
        var negatives = new int[draws];
        sampler.Sample(Enumerable.Repeat(user, draws).ToArray(), negatives, seed: 2024);
        var counts = new int[50];
        foreach (int i in negatives)
        {
            counts[i]++;
        }
        double expected = (double)draws / allowed, chi2 = 0;
        for (int i = 0; i < 50; i++)
        {
            if (excluded.Contains(i))
            {
                Assert.Equal(0, counts[i]);
                continue;
            }
            chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
        }
        // Chi-square with allowed − 1 degrees of freedom: mean dof, sd √(2·dof); 1e-3 tail ≈ dof + 4.5√(2·dof) for these sizes.
        int dof = allowed - 1;
        Assert.True(chi2 < dof + 4.5 * Math.Sqrt(2.0 * dof) + 5, $"chi² = {chi2:F1} with {dof} degrees of freedom");
    }

    [Fact]
    public void A_user_with_every_item_or_out_of_range_is_rejected_before_anything_is_written()
    {
        var sampler = new NegativeSampler(Training());
        int[] negatives = [-7, -7, -7];
        ArgumentException ex = ArgumentAssert.Throws("users", () => sampler.Sample([0, 4, 1], negatives, 1));
        ArgumentAssert.NamesIndex(ex, 1);
        Assert.Contains("all 50 items", ex.Message);
        ArgumentAssert.NamesIndex(ArgumentAssert.Throws("users", () => sampler.Sample([0, 1, 6], negatives, 1)), 2);
        ArgumentAssert.Throws("negatives", () => sampler.Sample([0, 1], negatives, 1));
        ArgumentAssert.Throws("offset", () => sampler.Sample([0, 1, 2], negatives, 1, offset: -1));
        Assert.Equal([-7, -7, -7], negatives);
        Assert.Throws<ArgumentNullException>(() => new NegativeSampler(null!));
    }

    private static int[] RowPointers(int[] users, int rows)
    {
        var ptr = new int[rows + 1];
        foreach (int u in users)
        {
            ptr[u + 1]++;
        }
        for (int r = 0; r < rows; r++)
        {
            ptr[r + 1] += ptr[r];
        }
        return ptr;
    }

    private static int[] Columns(int[] users, int[] items)
    {
        int[] ptr = RowPointers(users, users.Max() + 1);
        var cursor = (int[])ptr.Clone();
        var cols = new int[users.Length];
        for (int k = 0; k < users.Length; k++)
        {
            cols[cursor[users[k]]++] = items[k];
        }
        return cols;
    }
}
