// The host half of device ranking (found by mutation testing, kernels.md "Mutation score"): the ILGPU
// backends compute score rows on the device and hand them, a batch of users at a time, to
// ScoreRowsTopKJob, which masks each user's excluded items and selects its top k. Reached otherwise only
// through the ILGPU backends' tests, it is pinned here on the CPU: with integer tables every score is exact
// whatever the summation order, so the lists must equal the CPU ranking's lists element for element, for
// every batch split, thread count and tier.
using Stair.Kernels.Cpu;
using Stair.Kernels.Cpu.Ranking;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Ranking;

public class ScoreRowsTopKTests
{
    private const int Users = 37, Items = 23, D = 5, K = 4;

    public static TheoryData<SimdTier, int, int> TierThreadsBatch()
    {
        var data = new TheoryData<SimdTier, int, int>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                foreach (int batch in new[] { Users, 17, 5, 1 })
                {
                    data.Add(tier, threads, batch);
                }
            }
        }
        return data;
    }

    // Excluded sets with an empty row, a user who excludes every item but two (fewer than K rankable: −1 slots),
    // one who excludes all items, and unsorted rows with a repeat.
    private static CsrMatrix Excluded()
    {
        var rows = new List<int[]>();
        var rng = new Random(7);
        for (int u = 0; u < Users; u++)
        {
            rows.Add(u switch
            {
                0 => [],
                3 => Enumerable.Range(0, Items).Where(i => i != 5 && i != 11).Reverse().ToArray(),
                8 => Enumerable.Range(0, Items).ToArray(),
                9 => [4, 2, 4, 19],
                _ => Enumerable.Range(0, rng.Next(0, 6)).Select(_ => rng.Next(Items)).Distinct().ToArray(),
            });
        }
        var ptr = new int[Users + 1];
        for (int u = 0; u < Users; u++)
        {
            ptr[u + 1] = ptr[u] + rows[u].Length;
        }
        int[] cols = rows.SelectMany(r => r).ToArray();
        return new CsrMatrix(Users, Items, ptr, cols, Enumerable.Repeat(1f, cols.Length).ToArray());
    }

    [Theory]
    [MemberData(nameof(TierThreadsBatch))]
    public unsafe void Device_score_rows_give_the_CPU_rankings_lists(SimdTier tier, int threads, int batch)
    {
        float[] u = RankingTests.IntegerTable(Users, D, seed: 3);
        float[] i = RankingTests.IntegerTable(Items, D, seed: 4);
        CsrMatrix excluded = Excluded();
        var expected = new int[Users * K];
        Kernels.Ranking.TopK(u, i, D, excluded, K, expected, new CpuOptions(tier, threads));
        Assert.Contains(-1, expected); // the user with everything excluded has no list

        var sets = new ItemSets(excluded, "excluded");
        int[] actual = Enumerable.Repeat(int.MinValue, Users * K).ToArray();
        for (int first = 0; first < Users; first += batch)
        {
            int count = Math.Min(batch, Users - first);
            // The batch's score rows as the device writes them: exact integers, in row-major order.
            var scores = new float[count * Items];
            for (int b = 0; b < count; b++)
            {
                for (int item = 0; item < Items; item++)
                {
                    float s = 0;
                    for (int j = 0; j < D; j++)
                    {
                        s += u[(first + b) * D + j] * i[item * D + j];
                    }
                    scores[b * Items + item] = s;
                }
            }
            fixed (float* s = scores)
            fixed (int* r = actual)
            {
                var job = new ScoreRowsTopKJob(tier, s, count, Items, sets, first, K, r, threads);
                CpuWorkerPool.Shared.Run(job, threads);
            }
        }
        Assert.Equal(expected, actual);
    }
}
