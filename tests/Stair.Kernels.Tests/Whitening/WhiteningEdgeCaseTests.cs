// Whitening's rank and input edge cases, its argument checks, the user table, determinism
// and the non-CPU backends (against the CPU and the float64 reference).
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Whitening;

public class WhiteningEdgeCaseTests
{
    private static WhiteningModalityResult One(float[] x, int columns, int d, WhiteningMethod method = WhiteningMethod.Exact)
        => Kernels.Whitening.Whiten([new WhiteningModality(x, columns, 1)], new WhiteningOptions { Dimension = d, Method = method }).Modalities[0];

    private static void AssertZeroFrom(WhiteningModalityResult m, int items, int d, int from)
    {
        for (int i = 0; i < items; i++)
        {
            for (int j = from; j < d; j++)
            {
                Assert.Equal(0f, m.Embedding[i * d + j]);
            }
        }
    }

    [Theory]
    [InlineData(WhiteningMethod.Exact)]
    [InlineData(WhiteningMethod.Randomized)]
    public void FewerItemsThanDimension(WhiteningMethod method)
    {
        // Five items centered span at most four directions.
        float[] x = WhiteningTests.Features(5, 20, 0.9, 3);
        WhiteningModalityResult m = One(x, 20, 8, method);
        Assert.Equal(4, m.Rank);
        Assert.Equal(4, m.ZeroColumns);
        AssertZeroFrom(m, 5, 8, 4);
        (double[] w, _, int rank) = WhiteningReference.Whiten(x, 5, 20, 8);
        Assert.Equal(4, rank);
        Assert.True(WhiteningReference.SubspaceSine(m.Embedding, w, 5, 8, 4) <= 1e-3);
        Assert.Equal(0.0, m.SingularValues[5]);
    }

    [Theory]
    [InlineData(WhiteningMethod.Exact)]
    [InlineData(WhiteningMethod.Randomized)]
    public void ConstantColumnsDoNotCount(WhiteningMethod method)
    {
        const int items = 40, columns = 6;
        float[] x = WhiteningTests.Features(items, columns, 0.9, 4);
        for (int i = 0; i < items; i++)
        {
            x[i * columns + 1] = 7.25f;
            x[i * columns + 3] = -2f;
            x[i * columns + 4] = 0f;
        }
        WhiteningModalityResult m = One(x, columns, 5, method);
        Assert.Equal(3, m.Rank);
        Assert.Equal(2, m.ZeroColumns);
        AssertZeroFrom(m, items, 5, 3);
        Assert.Equal(m.SingularValues[0] / m.SingularValues[2], m.ConditionNumber);
        (double[] w, _, _) = WhiteningReference.Whiten(x, items, columns, 5);
        Assert.True(WhiteningReference.SubspaceSine(m.Embedding, w, items, 5, 3) <= 1e-3);
    }

    [Fact]
    public void DuplicateRowsGetIdenticalEmbeddings()
    {
        const int columns = 12, d = 6;
        float[] unique = WhiteningTests.Features(30, columns, 0.9, 5);
        var x = new float[60 * columns];
        for (int i = 0; i < 60; i++)
        {
            unique.AsSpan((i % 30) * columns, columns).CopyTo(x.AsSpan(i * columns, columns));
        }
        WhiteningModalityResult m = One(x, columns, d);
        Assert.Equal(d, m.Rank);
        for (int i = 0; i < 30; i++)
        {
            // Each product element depends on its own rows only: bitwise equal.
            Bits.AssertBitsEqual(m.Embedding.AsSpan(i * d, d), m.Embedding.AsSpan((i + 30) * d, d), $"rows {i} and {i + 30}");
        }
        (double[] w, _, _) = WhiteningReference.Whiten(x, 60, columns, d);
        Assert.True(WhiteningReference.SubspaceSine(m.Embedding, w, 60, d, d) <= 1e-3);
    }

    [Fact]
    public void OneModalityNarrowerThanDimension()
    {
        const int items = 50, d = 8;
        float[] narrow = WhiteningTests.Features(items, 3, 0.9, 6);
        float[] wide = WhiteningTests.Features(items, 40, 0.9, 7);
        WhiteningResult r = Kernels.Whitening.Whiten([new WhiteningModality(narrow, 3, 1), new WhiteningModality(wide, 40, 3)], new WhiteningOptions { Dimension = d });
        Assert.Equal(3, r.Modalities[0].Rank);
        Assert.Equal(5, r.Modalities[0].ZeroColumns);
        Assert.Equal(8, r.Modalities[1].Rank);
        for (int k = 0; k < r.ItemTable.Length; k++)
        {
            float expected = (float)((1.0 * r.Modalities[0].Embedding[k] + 3.0 * r.Modalities[1].Embedding[k]) / 4.0);
            Assert.Equal(expected, r.ItemTable[k], 1e-5f);
        }
    }

    [Fact]
    public void AllConstantFeaturesGiveRankZero()
    {
        var x = new float[10 * 4];
        x.AsSpan().Fill(3.5f);
        WhiteningModalityResult m = One(x, 4, 3);
        Assert.Equal(0, m.Rank);
        Assert.Equal(3, m.ZeroColumns);
        Assert.Equal(double.PositiveInfinity, m.ConditionNumber);
        Assert.All(m.Embedding, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void RankDeficientWithinTheSpectrum()
    {
        // Rank 4 data in 30 columns: columns past 4 are zero and σ_5 is rounding.
        const int items = 80, columns = 30;
        float[] left = WhiteningTests.Features(items, 4, 1.0, 8);
        float[] right = WhiteningTests.Features(4, columns, 1.0, 9);
        var x = new float[items * columns];
        for (int i = 0; i < items; i++)
        {
            for (int c = 0; c < columns; c++)
            {
                float s = 0;
                for (int p = 0; p < 4; p++)
                {
                    s += left[i * 4 + p] * right[p * columns + c];
                }
                x[i * columns + c] = s;
            }
        }
        foreach (WhiteningMethod method in new[] { WhiteningMethod.Exact, WhiteningMethod.Randomized })
        {
            WhiteningModalityResult m = One(x, columns, 10, method);
            Assert.True(m.Rank <= 4, $"{method}: rank {m.Rank}");
            Assert.True(m.Rank >= 3, $"{method}: rank {m.Rank}");
            AssertZeroFrom(m, items, 10, m.Rank);
        }
    }

    [Fact]
    public void ThreadCountDoesNotChangeBits()
    {
        float[] x = WhiteningTests.Features(123, 57, 0.92, 10);
        foreach (WhiteningMethod method in new[] { WhiteningMethod.Exact, WhiteningMethod.Randomized })
        {
            var options = new WhiteningOptions { Dimension = 9, Method = method };
            float[] one = Kernels.Whitening.Whiten([new WhiteningModality(x, 57, 1)], options, new CpuOptions(SimdTier.Auto, 1)).ItemTable;
            float[] two = Kernels.Whitening.Whiten([new WhiteningModality(x, 57, 1)], options, new CpuOptions(SimdTier.Auto, 2)).ItemTable;
            Bits.AssertBitsEqual(one, two, $"{method}: 2 threads vs 1");
        }
    }

    [Fact]
    public void UserTableAveragesItems()
    {
        const int items = 20, users = 4, d = 3;
        float[] x = WhiteningTests.Features(items, 7, 0.9, 11);
        WhiteningResult r = Kernels.Whitening.Whiten([new WhiteningModality(x, 7, 1)], new WhiteningOptions { Dimension = d });
        int[] u = [0, 0, 0, 2, 2, 3, 0];
        int[] i = [1, 5, 5, 19, 0, 7, 9];   // user 0 has items 1, 5 (twice), 9; user 1 none
        CsrMatrix left = GraphBuilder.LeftNormalizedInteractions(users, items, u, i);
        float[] table = r.UserTable(left);
        var expect = new Dictionary<int, int[]> { [0] = [1, 5, 9], [1] = [], [2] = [19, 0], [3] = [7] };
        foreach ((int user, int[] its) in expect)
        {
            for (int j = 0; j < d; j++)
            {
                double mean = its.Length == 0 ? 0 : its.Average(it => (double)r.ItemTable[it * d + j]);
                Assert.True(Math.Abs(mean - table[user * d + j]) <= 1e-6, $"user {user}, column {j}: {table[user * d + j]} vs {mean}");   // float32 rounding of a mean of O(1) values
            }
        }
        Assert.Throws<ArgumentException>(() => r.UserTable(GraphBuilder.LeftNormalizedInteractions(2, items + 1, [0], [0])));
    }

    [Fact]
    public void RejectsBadInput()
    {
        float[] ok = WhiteningTests.Features(10, 4, 0.9, 12);
        float[] nan = (float[])ok.Clone();
        nan[3 * 4 + 2] = float.NaN;
        float[] inf = (float[])ok.Clone();
        inf[7 * 4 + 1] = float.NegativeInfinity;
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(() =>
            Kernels.Whitening.Whiten([new WhiteningModality(ok, 4, 1, "text"), new WhiteningModality(nan, 4, 1, "image")]));
        Assert.Contains("image", e.Message);
        Assert.Contains("row 3, column 2", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => Kernels.Whitening.Whiten([new WhiteningModality(inf, 4, 1)]));
        Assert.Contains("modality 0", e.Message);
        Assert.Contains("row 7, column 1", e.Message);

        Assert.ThrowsAny<ArgumentException>(() => Kernels.Whitening.Whiten([new WhiteningModality(ok, 4, 1), new WhiteningModality(ok.AsMemory(0, 36), 4, 1)]));
        Assert.ThrowsAny<ArgumentException>(() => Kernels.Whitening.Whiten([new WhiteningModality(ok, 3, 1)]));
        Assert.ThrowsAny<ArgumentException>(() => Kernels.Whitening.Whiten([new WhiteningModality(ok, 0, 1)]));
        Assert.ThrowsAny<ArgumentException>(() => Kernels.Whitening.Whiten([new WhiteningModality(Array.Empty<float>(), 4, 1)]));
        Assert.ThrowsAny<ArgumentException>(() => Kernels.Whitening.Whiten([]));
        Assert.Throws<ArgumentNullException>(() => Kernels.Whitening.Whiten(null!));
        foreach (double weight in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
        {
            e = Assert.ThrowsAny<ArgumentException>(() => Kernels.Whitening.Whiten([new WhiteningModality(ok, 4, weight)]));
            Assert.Contains("weight", e.Message);
        }
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Kernels.Whitening.Whiten([new WhiteningModality(ok, 4, 1)], new WhiteningOptions { Dimension = 0 }));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Kernels.Whitening.Whiten([new WhiteningModality(ok, 4, 1)], new WhiteningOptions { Oversampling = -1 }));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Kernels.Whitening.Whiten([new WhiteningModality(ok, 4, 1)], new WhiteningOptions { PowerIterations = -1 }));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Kernels.Whitening.Whiten([new WhiteningModality(ok, 4, 1)], new WhiteningOptions { RankTolerance = 0 }));
    }

    [Fact]
    public void ValidateRowsPassOnEveryTier()
    {
        var results = new List<ValidationResult>();
        WhiteningValidation.Run(new ValidationOptions(IncludeBabyShape: false, Repeats: 1, Backends: [Backend.Cpu]), results, null);
        Assert.Equal(2 * 2 * SimdTiers.Supported.Count, results.Count);
        Assert.All(results, r => Assert.True(r.Passed, $"{r.Kernel} {r.Backend} {r.Size}: {r.MaxError:E2}"));
    }

    public static TheoryData<Backend, WhiteningMethod> GpuBackendsAndMethods()
    {
        var data = new TheoryData<Backend, WhiteningMethod>();
        foreach (Backend b in new[] { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            data.Add(b, WhiteningMethod.Exact);
            data.Add(b, WhiteningMethod.Randomized);
        }
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(GpuBackendsAndMethods))]
    public void EveryBackendAgreesWithTheCpu(Backend backend, WhiteningMethod method)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        // Tiny on the simulator; two modalities, one of each Gram side, one rank-deficient.
        const int items = 37, d = 6;
        float[] a = WhiteningTests.Features(items, 13, 0.85, 21);
        float[] b = WhiteningTests.Features(items, 45, 0.85, 22);
        for (int i = 0; i < items; i++)
        {
            a[i * 13 + 5] = 1f;
        }
        WhiteningModality[] modalities = [new(a, 13, 5), new(b, 45, 1)];
        var options = new WhiteningOptions { Dimension = d, Method = method };
        WhiteningResult cpu = Kernels.Whitening.Whiten(modalities, options);
        using ComputeContext context = ComputeContext.Create(backend);
        WhiteningResult device = context.Whiten(modalities, options);
        // A second identical call on the same context gives the same bits.
        WhiteningResult again = context.Whiten(modalities, options);
        Bits.AssertBitsEqual(device.ItemTable, again.ItemTable, $"{backend} {method}: item table of a second call");
        for (int m = 0; m < 2; m++)
        {
            Assert.Equal(cpu.Modalities[m].Rank, device.Modalities[m].Rank);
            double worst = cpu.Modalities[m].Embedding.Zip(device.Modalities[m].Embedding, (x, y) => Math.Abs(x - y)).Max();
            // Both sides run the same algorithm in float32 and differ only in rounding (the device does not
            // fuse multiply-adds): each input is perturbed by ~F·u relative (u = 2⁻²⁴, F columns summed), and a
            // singular vector moves by that times (σ₁/σ_r)² over the smallest relative gap of the computed
            // spectrum (the Gram squares the condition), per side; entries are O(max|W|). Measured: 5.7e-7.
            IReadOnlyList<double> s = cpu.Modalities[m].SingularValues;
            int r = cpu.Modalities[m].Rank;
            double gap = Enumerable.Range(0, r - 1).Select(j => (s[j] - s[j + 1]) / s[j]).DefaultIfEmpty(1).Min();
            double bound = 2 * modalities[m].Columns * Math.Pow(2, -24) * Math.Pow(s[0] / s[r - 1], 2) / gap * cpu.Modalities[m].Embedding.Max(Math.Abs);
            Assert.True(worst <= bound, $"modality {m}: max |W_cpu − W_{backend}| = {worst:E2} > bound {bound:E2}");
        }
        CsrMatrix left = GraphBuilder.LeftNormalizedInteractions(3, items, [0, 0, 2], [1, 36, 5]);
        float[] users = context.UserTable(device, left);
        float[] expected = cpu.UserTable(left);
        for (int k = 0; k < users.Length; k++)
        {
            Assert.Equal(expected[k], users[k], 1e-4f);
        }
    }
}
