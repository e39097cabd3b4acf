// The modality kNN graph against a float64 brute force: neighbours, ties to the lower
// index, duplicate and zero rows, the union/symmetrize/normalize steps, tiers and threads.
namespace Stair.Kernels.Tests.KnnGraph;

public class KnnGraphTests
{
    private static float[] Gaussian(int rows, int columns, int seed)
    {
        var rng = new Random(seed);
        var f = new float[rows * columns];
        for (int k = 0; k < f.Length; k++)
        {
            f[k] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        }
        return f;
    }

    // Cosine in float64 from the raw features (0 for a zero row), sorted by score then index.
    private static int[] BruteForce(float[] f, int rows, int columns, int k)
    {
        double Norm(int i) => Math.Sqrt(Enumerable.Range(0, columns).Sum(c => (double)f[i * columns + c] * f[i * columns + c]));
        var result = new int[rows * k];
        for (int i = 0; i < rows; i++)
        {
            double ni = Norm(i);
            var scored = new List<(double Score, int Index)>();
            for (int j = 0; j < rows; j++)
            {
                if (j == i)
                {
                    continue;
                }
                double nj = Norm(j), dot = 0;
                for (int c = 0; c < columns; c++)
                {
                    dot += (double)f[i * columns + c] * f[j * columns + c];
                }
                scored.Add((ni > 0 && nj > 0 ? dot / (ni * nj) : 0, j));
            }
            int[] best = scored.OrderByDescending(s => s.Score).ThenBy(s => s.Index).Take(k).Select(s => s.Index).ToArray();
            best.CopyTo(result, i * k);
        }
        return result;
    }

    public static TheoryData<SimdTier> Tiers()
    {
        var data = new TheoryData<SimdTier>();
        foreach (SimdTier tier in SimdTiers.Supported)
        {
            data.Add(tier);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Top_k_matches_a_float64_brute_force(SimdTier tier)
    {
        foreach ((int rows, int columns, int k) in new[] { (120, 37, 5), (60, 16, 1), (40, 3, 7), (2, 5, 1) })
        {
            float[] f = Gaussian(rows, columns, rows + columns);
            int[] got = Kernels.KnnGraph.TopK(rows, new KnnModality(f, columns, k), new CpuOptions(tier, 2));
            Assert.Equal(BruteForce(f, rows, columns, k), got);
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Ties_go_to_the_lower_index_and_zero_rows_have_similarity_zero(SimdTier tier)
    {
        const int rows = 12, columns = 5;
        float[] f = Gaussian(rows, columns, 3);
        foreach (int dup in new[] { 7, 9 })
        {
            f.AsSpan(3 * columns, columns).CopyTo(f.AsSpan(dup * columns, columns)); // rows 3, 7, 9 identical
        }
        f.AsSpan(0, columns).Clear();               // row 0 is all zeros
        f.AsSpan(11 * columns, columns).Clear();    // and so is row 11
        int[] top = Kernels.KnnGraph.TopK(rows, new KnnModality(f, columns, 3), new CpuOptions(tier));
        // Exact twins score exactly 1 (the same bits): ties go to the lower index.
        Assert.Equal([3, 9], top.AsSpan(7 * 3, 2).ToArray());
        Assert.Equal([7, 9], top.AsSpan(3 * 3, 2).ToArray());
        Assert.Equal([3, 7], top.AsSpan(9 * 3, 2).ToArray());
        // A zero row sees similarity 0 everywhere: its neighbours are the lowest indices.
        Assert.Equal([1, 2, 3], top.AsSpan(0, 3).ToArray());
        Assert.Equal([0, 1, 2], top.AsSpan(11 * 3, 3).ToArray());
        Assert.Equal(BruteForce(f, rows, columns, 3), top);
    }

    [Fact]
    public void Dot_is_bitwise_identical_on_every_tier_and_top_k_on_every_thread_count()
    {
        var rng = new Random(5);
        for (int n = 0; n <= 70; n++)
        {
            float[] a = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            float[] b = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            float first = Kernels.KnnGraph.Dot(a, b, SimdTier.Scalar);
            foreach (SimdTier tier in SimdTiers.Supported)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(first), BitConverter.SingleToInt32Bits(Kernels.KnnGraph.Dot(a, b, tier)));
            }
        }
        float[] f = Gaussian(90, 33, 8);
        int[] one = Kernels.KnnGraph.TopK(90, new KnnModality(f, 33, 4), new CpuOptions(SimdTier.Scalar, 1));
        foreach (SimdTier tier in SimdTiers.Supported)
        {
            Assert.Equal(one, Kernels.KnnGraph.TopK(90, new KnnModality(f, 33, 4), new CpuOptions(tier, 3)));
        }
    }

    [Fact]
    public void Build_unites_by_sum_symmetrizes_by_max_and_normalizes_symmetrically()
    {
        const int rows = 50;
        float[] text = Gaussian(rows, 24, 1), image = Gaussian(rows, 9, 2);
        CsrMatrix s = Kernels.KnnGraph.Build(rows, [new KnnModality(text, 24, 5), new KnnModality(image, 9, 1)]);

        // Dense reference straight from §1.
        var w = new double[rows, rows];
        foreach ((float[] f, int columns, int k) in new[] { (text, 24, 5), (image, 9, 1) })
        {
            int[] top = BruteForce(f, rows, columns, k);
            for (int i = 0; i < rows; i++)
            {
                for (int r = 0; r < k; r++)
                {
                    w[i, top[i * k + r]] += 1;
                }
            }
        }
        var sym = new double[rows, rows];
        var degree = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < rows; j++)
            {
                sym[i, j] = Math.Max(w[i, j], w[j, i]);
                degree[i] += sym[i, j];
            }
        }
        float[] dense = s.ToDense();
        for (int i = 0; i < rows; i++)
        {
            Assert.Equal(0f, dense[i * rows + i]); // no self-loops
            for (int j = 0; j < rows; j++)
            {
                double expected = sym[i, j] == 0 ? 0 : sym[i, j] / Math.Sqrt(degree[i] * degree[j]);
                // One float32 rounding of a float64 value: relative 2⁻²⁴, with room to spare.
                Assert.True(Math.Abs(dense[i * rows + j] - expected) <= 1e-6 * expected, $"S[{i},{j}] = {dense[i * rows + j]}, expected {expected}");
            }
        }
        Assert.True(s.IsSymmetric());
    }

    [Fact]
    public void Bad_input_names_the_modality_row_and_column()
    {
        float[] f = Gaussian(10, 4, 1);
        f[6 * 4 + 2] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => Kernels.KnnGraph.Build(10, [new KnnModality(Gaussian(10, 3, 2), 3, 2), new KnnModality(f, 4, 2)]));
        Assert.Contains("Modality 1", nan.Message);
        Assert.Contains("row 6, column 2", nan.Message);
        Assert.Equal("modalities", nan.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.Build(10, [new KnnModality(Gaussian(10, 3, 2), 3, 0)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.Build(10, [new KnnModality(Gaussian(10, 3, 2), 3, 10)]));
        Assert.Throws<ArgumentException>(() => Kernels.KnnGraph.Build(10, [new KnnModality(Gaussian(9, 3, 2), 3, 2)]));
        Assert.Throws<ArgumentException>(() => Kernels.KnnGraph.Build(10, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.TopK(10, new KnnModality(Gaussian(10, 3, 2), 0, 2)));
    }
}
