// The modality kNN graph against float64 references: neighbours, ties to the lower index,
// duplicate and zero rows, near-ties below float32 resolution, the union/symmetrize/normalize
// steps, and identity across tiers, threads and block sizes.
using Stair.Kernels.Cpu.KnnGraph;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.KnnGraph;

public class KnnGraphTests
{
    internal static float[] Gaussian(int rows, int columns, int seed)
    {
        var rng = new Random(seed);
        var f = new float[rows * columns];
        for (int k = 0; k < f.Length; k++)
        {
            f[k] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        }
        return f;
    }

    /// <summary>
    /// Clusters of near-duplicates: each row is its cluster's base plus noise of relative size ~1e-4, so
    /// cosines inside a cluster differ by ~1e-8, below float32 resolution near 1 — the float32 screen
    /// cannot order them, only the float64 finish can. A few exact twins and zero rows are mixed in.
    /// </summary>
    internal static float[] NearTies(int rows, int columns, int seed)
    {
        var rng = new Random(seed);
        float[] bases = Gaussian(8, columns, seed + 1);
        var f = new float[rows * columns];
        for (int i = 0; i < rows; i++)
        {
            int cluster = rng.Next(8);
            for (int c = 0; c < columns; c++)
            {
                f[i * columns + c] = bases[cluster * columns + c] + (float)(1e-4 * (rng.NextDouble() - 0.5));
            }
        }
        f.AsSpan(2 * columns, columns).CopyTo(f.AsSpan(rows / 2 * columns, columns));
        f.AsSpan((rows - 1) * columns, columns).Clear();
        f.AsSpan(5 * columns, columns).Clear();
        return f;
    }

    // Cosine in float64 from the raw features (0 for a zero row), sorted by score then index.
    internal static int[] BruteForce(float[] f, int rows, int columns, int k)
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

    /// <summary>
    /// The documented score exactly: rows normalized in float64 and rounded to float32, then the dot product of
    /// those float32 rows summed with Neumaier compensation (the products are exact in float64), so it resolves
    /// score gaps far below float32 resolution.
    /// </summary>
    internal static int[] NormalizedReference(float[] f, int rows, int columns, int k)
    {
        var unit = new float[f.Length];
        var zero = new bool[rows];
        for (int i = 0; i < rows; i++)
        {
            double sum = 0;
            for (int c = 0; c < columns; c++)
            {
                sum += (double)f[i * columns + c] * f[i * columns + c];
            }
            double norm = Math.Sqrt(sum);
            zero[i] = norm == 0;
            for (int c = 0; c < columns; c++)
            {
                unit[i * columns + c] = zero[i] ? 0f : (float)(f[i * columns + c] / norm);
            }
        }
        var result = new int[rows * k];
        for (int i = 0; i < rows; i++)
        {
            var scored = new List<(double Score, int Index)>();
            for (int j = 0; j < rows; j++)
            {
                if (j == i)
                {
                    continue;
                }
                double s = 0, compensation = 0;
                for (int c = 0; c < columns; c++)
                {
                    double p = (double)unit[i * columns + c] * unit[j * columns + c], t = s + p;
                    compensation += Math.Abs(s) >= Math.Abs(p) ? (s - t) + p : (p - t) + s;
                    s = t;
                }
                scored.Add((s + compensation, j));
            }
            scored.OrderByDescending(x => x.Score).ThenBy(x => x.Index).Take(k).Select(x => x.Index).ToArray().CopyTo(result, i * k);
        }
        return result;
    }

    public static TheoryData<SimdTier> Tiers()
    {
        var data = new TheoryData<SimdTier>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            data.Add(tier);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Top_k_matches_a_float64_brute_force(SimdTier tier)
    {
        foreach ((int rows, int columns, int k) in new[] { (120, 37, 5), (60, 16, 1), (40, 3, 7), (2, 5, 1), (3, 1, 2), (70, 17, 69), (33, 64, 32) })
        {
            float[] f = Gaussian(rows, columns, rows + columns);
            int[] expected = BruteForce(f, rows, columns, k);
            foreach (int block in new[] { 0, 16, 32 })
            {
                int[] got = Kernels.KnnGraph.TopK(null, rows, new KnnModality(f, columns, k), new CpuOptions(tier, 2), block);
                Assert.Equal(expected, got);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Near_ties_below_float32_resolution_are_decided_by_the_exact_score(SimdTier tier)
    {
        foreach ((int rows, int columns, int k) in new[] { (150, 40, 5), (97, 129, 3), (64, 7, 10) })
        {
            float[] f = NearTies(rows, columns, rows);
            int[] expected = NormalizedReference(f, rows, columns, k);
            foreach (int block in new[] { 0, 16, 48 })
            {
                foreach (int threads in new[] { 1, 3 })
                {
                    Assert.Equal(expected, Kernels.KnnGraph.TopK(null, rows, new KnnModality(f, columns, k), new CpuOptions(tier, threads), block));
                }
            }
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
        // Exact twins score exactly the same: ties go to the lower index.
        Assert.Equal([3, 9], top.AsSpan(7 * 3, 2).ToArray());
        Assert.Equal([7, 9], top.AsSpan(3 * 3, 2).ToArray());
        Assert.Equal([3, 7], top.AsSpan(9 * 3, 2).ToArray());
        // A zero row sees similarity 0 everywhere: its neighbours are the lowest indices.
        Assert.Equal([1, 2, 3], top.AsSpan(0, 3).ToArray());
        Assert.Equal([0, 1, 2], top.AsSpan(11 * 3, 3).ToArray());
        Assert.Equal(BruteForce(f, rows, columns, 3), top);
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Constructed_exact_ties_and_scaled_duplicates_go_to_the_lower_index(SimdTier tier)
    {
        // Row 0 = e0; rows 1–4 all have cosine 1/√2 with it (e0 + e_c for c = 1..4, and a scaled copy):
        // the same normalized bits, so exact ties in every score.
        float[] f =
        [
            1, 0, 0, 0, 0,
            3, 3, 0, 0, 0,
            1, 0, 1, 0, 0,
            2, 0, 0, 2, 0,
            1, 0, 0, 0, 1,
            0, 0, 0, 0, 0,   // a zero row
            0, 1, 0, 0, 0,
            0, 0, 0, 0, -1,  // negative similarity with row 4
        ];
        const int rows = 8, columns = 5;
        foreach (int k in new[] { 1, 3, 7 })
        {
            int[] got = Kernels.KnnGraph.TopK(null, rows, new KnnModality(f, columns, k), new CpuOptions(tier, 2), 16);
            Assert.Equal(BruteForce(f, rows, columns, k), got);
        }
        int[] two = Kernels.KnnGraph.TopK(rows, new KnnModality(f, columns, 2), new CpuOptions(tier));
        Assert.Equal([1, 2], two.AsSpan(0, 2).ToArray());
        // Row 7 is orthogonal to all but row 4 (−1/√2): its best are the zero-similarity items, lowest first.
        Assert.Equal([0, 1], two.AsSpan(7 * 2, 2).ToArray());
    }

    internal static float[] DuplicateGroups(int rows, int columns, int seed)
    {
        float[] f = Gaussian(rows, columns, seed);
        for (int i = 1; i < rows / 2; i++)
        {
            f.AsSpan(0, columns).CopyTo(f.AsSpan(i * columns, columns)); // the first half: one vector
        }
        for (int i = rows / 2 + 1; i < rows / 2 + rows / 8; i++)
        {
            for (int c = 0; c < columns; c++)
            {
                f[i * columns + c] = 2 * f[rows / 2 * columns + c]; // scaled copies: the same unit row
            }
        }
        return f;
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Large_duplicate_groups_are_thinned_and_still_exact(SimdTier tier)
    {
        const int rows = 400, columns = 21;
        float[] f = DuplicateGroups(rows, columns, 4);
        foreach (int k in new[] { 1, 3, 8 })
        {
            KnnRows packed = KnnExact.Normalize(f, rows, columns, k, tier, 2);
            // Only the first k + 1 members of each group are screened.
            Assert.Equal(rows - (rows / 2 - (k + 1)) - (rows / 8 - (k + 1)), packed.Count);
            Assert.Equal(-1, packed.Leader[k]);                  // the (k+1)-th member is screened
            Assert.Equal(0, packed.Leader[k + 1]);               // later members follow row 0
            Assert.Equal(rows / 2, packed.Leader[rows / 2 + k + 1]);
            Assert.Equal(-1, packed.Leader[rows - 1]);
            int[] expected = BruteForce(f, rows, columns, k);
            foreach (int block in new[] { 0, 32 })
            {
                Assert.Equal(expected, Kernels.KnnGraph.TopK(null, rows, new KnnModality(f, columns, k), new CpuOptions(tier, 2), block));
            }
        }
    }

    [Fact]
    public void Identical_on_every_tier_thread_count_and_block_size()
    {
        float[] f = NearTies(200, 33, 8);
        int[] one = Kernels.KnnGraph.TopK(null, 200, new KnnModality(f, 33, 4), new CpuOptions(SimdTier.Scalar, 1), 0);
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int block in new[] { 0, 16, 64, 512 })
            {
                foreach (int threads in new[] { 1, 2, 5 })
                {
                    Assert.Equal(one, Kernels.KnnGraph.TopK(null, 200, new KnnModality(f, 33, 4), new CpuOptions(tier, threads), block));
                }
            }
        }
    }

    [Fact]
    public unsafe void Exact_dot_is_bitwise_identical_on_every_tier()
    {
        var rng = new Random(5);
        for (int n = 0; n <= 70; n++)
        {
            float[] a = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            float[] b = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            fixed (float* pa = a, pb = b)
            {
                double first = KnnExact.Dot(pa, pb, n, SimdTier.Scalar);
                double exact = 0;
                for (int p = 0; p < n; p++)
                {
                    exact += (double)a[p] * b[p];
                }
                // 70 exact products summed in float64: within 70·2⁻⁵³ of each other relative to Σ|a_p b_p| ≤ 70/4.
                Assert.True(Math.Abs(first - exact) <= 70 * 70 / 4.0 * Math.ScaleB(1, -52));
                foreach (SimdTier tier in TierCoverage.Expected())
                {
                    Assert.Equal(BitConverter.DoubleToInt64Bits(first), BitConverter.DoubleToInt64Bits(KnnExact.Dot(pa, pb, n, tier)));
                }
            }
        }
    }

    [Fact]
    public unsafe void The_screening_window_bounds_the_float32_error_of_every_pair()
    {
        // Worst realistic case for the bound: all-positive features, where no cancellation hides the error.
        foreach (int columns in new[] { 1, 17, 384, 1000 })
        {
            const int rows = 40;
            float[] f = Gaussian(rows, columns, columns).Select(Math.Abs).ToArray();
            KnnRows unit = KnnExact.Normalize(f, rows, columns, rows, SimdTier.Scalar, 1);
            double e = KnnCandidates.ScreeningError(columns);
            fixed (float* u = unit.Unit)
            {
                for (int i = 0; i < rows; i++)
                {
                    for (int j = 0; j < rows; j++)
                    {
                        float sequential = 0;
                        for (int p = 0; p < columns; p++)
                        {
                            sequential += u[i * columns + p] * u[j * columns + p];
                        }
                        double d = KnnExact.Dot(u + i * columns, u + j * columns, columns, SimdTier.Scalar);
                        Assert.True(Math.Abs(sequential - d) <= e, $"F={columns} ({i},{j}): |{sequential} − {d}| > {e}");
                    }
                }
            }
            // The bound is γ_F-sized, not vacuous: the window at F = 4096 is under 1e-3.
            Assert.True(KnnCandidates.ScreeningError(4096) < 5e-4);
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void The_screen_keeps_few_survivors_on_spread_scores(SimdTier tier)
    {
        // The exact finish would mask a screen that keeps everything (or a product that returns zeros):
        // on Gaussian rows the survivors must stay close to k.
        const int rows = 600, columns = 64, k = 5;
        float[] f = Gaussian(rows, columns, 11);
        KnnRows packed = KnnExact.Normalize(f, rows, columns, k, tier, 2);
        var candidates = new KnnCandidates(packed.Count, k, columns);
        KnnScreenCpu.Screen(packed, candidates, tier, 2, 64);
        long survivors = 0;
        for (int r = 0; r < packed.Count; r++)
        {
            survivors += candidates.Compact(r);
            Assert.True(candidates.Threshold(r) > 0.2f, $"row {r}: threshold {candidates.Threshold(r)}");
        }
        Assert.InRange(survivors, rows * k, rows * (k + 1));
    }

    [Fact]
    public void The_tournament_meets_every_block_pair_once_with_disjoint_rounds()
    {
        foreach (int blocks in new[] { 1, 2, 3, 4, 7, 16 })
        {
            var seen = new HashSet<(int, int)>();
            foreach ((int A, int B)[] round in KnnScreenCpu.Tournament(blocks))
            {
                var used = new HashSet<int>();
                foreach ((int a, int b) in round)
                {
                    Assert.True(a <= b && b < blocks);
                    Assert.True(seen.Add((a, b)), $"pair ({a},{b}) twice");
                    Assert.True(used.Add(a));
                    Assert.True(a == b || used.Add(b));
                }
            }
            Assert.Equal(blocks * (blocks + 1) / 2, seen.Count);
        }
        Assert.Equal(448, KnnScreenCpu.BlockRows(7050, 2)); // 16 blocks: four pairs per worker per round
    }

    [Fact]
    public void Build_unites_by_sum_symmetrizes_by_max_and_normalizes_symmetrically()
    {
        const int rows = 50;
        float[] text = Gaussian(rows, 24, 1), image = Gaussian(rows, 9, 2);
        CsrMatrix s = Kernels.KnnGraph.Build(rows, [new KnnModality(text, 24, 5), new KnnModality(image, 9, 1)]);

        // Dense reference straight from the definition (kernels.md, KnnGraph).
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
        using ComputeContext cpu = ComputeContext.Create(Backend.Cpu, new CpuOptions(SimdTier.Scalar, 1));
        CsrMatrix viaContext = cpu.BuildKnnGraph(rows, [new KnnModality(text, 24, 5), new KnnModality(image, 9, 1)]);
        Bits.AssertBitsEqual(s.ToDense(), viaContext.ToDense(), "kNN graph via the context vs the host call");
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
        f[6 * 4 + 2] = float.NegativeInfinity;
        Assert.Contains("row 6, column 2 is ", Assert.Throws<ArgumentException>(() => Kernels.KnnGraph.TopK(10, new KnnModality(f, 4, 2))).Message);
        f[6 * 4 + 2] = 0;
        f[9 * 4 + 3] = float.PositiveInfinity;
        Assert.Contains("row 9, column 3", Assert.Throws<ArgumentException>(() => Kernels.KnnGraph.TopK(10, new KnnModality(f, 4, 2))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.Build(10, [new KnnModality(Gaussian(10, 3, 2), 3, 0)]));
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.Build(10, [new KnnModality(Gaussian(10, 3, 2), 3, 10)]));
        Assert.Contains("items − 1 = 9", tooMany.Message);
        var single = Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.TopK(1, new KnnModality(new float[] { 1, 2 }, 2, 1)));
        Assert.Contains("1 item has no neighbours", single.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.TopK(0, new KnnModality(Array.Empty<float>(), 2, 1)));
        Assert.Throws<ArgumentException>(() => Kernels.KnnGraph.Build(10, [new KnnModality(Gaussian(9, 3, 2), 3, 2)]));
        Assert.Throws<ArgumentException>(() => Kernels.KnnGraph.Build(10, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.TopK(10, new KnnModality(Gaussian(10, 3, 2), 0, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.KnnGraph.TopK(10, new KnnModality(Gaussian(10, 3, 2), 3, 2), new CpuOptions(SimdTier.Auto, -1)));
        using ComputeContext cpu = ComputeContext.Create(Backend.Cpu);
        Assert.Contains("Modality 0", Assert.Throws<ArgumentOutOfRangeException>(() => cpu.KnnTopK(10, new KnnModality(Gaussian(10, 3, 2), 3, -1))).Message);
        cpu.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cpu.KnnTopK(10, new KnnModality(Gaussian(10, 3, 2), 3, 2)));
    }
}
