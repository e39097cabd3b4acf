// GraphBuilder against plain float64 dense references written from kernels.md, KnnGraph, its
// input validation, and the synthetic power-law interaction generator.
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Graphs;

public class GraphBuilderTests
{
    // The builders compute every value in float64 and round it once to float32. Rounding to
    // nearest has relative error ≤ 2⁻²⁴ ≈ 6e-8; the reference below computes the same quantity
    // in float64 by another route (differences ~1e-16). 1e-6 is a comfortable bound for one
    // rounding and still fails for any wrong degree (the smallest possible error there, e.g.
    // 1/√(d·d') vs 1/√(d·(d'+1)) with d' ≤ 10⁴, is ≥ 5e-5).
    private const double RelTol = 1e-6;

    // ---- Dense references -----------------------------------------------------------------

    /// <summary>A = [[0, R], [Rᵀ, 0]] with R binary (duplicates collapse), then D^{-1/2} A D^{-1/2}.</summary>
    private static double[,] ReferenceAdjacency(int users, int items, int[] u, int[] i)
    {
        int n = users + items;
        var a = new double[n, n];
        for (int e = 0; e < u.Length; e++)
        {
            a[u[e], users + i[e]] = 1;
            a[users + i[e], u[e]] = 1;
        }
        var degree = new double[n];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                degree[r] += a[r, c];
            }
        }
        var result = new double[n, n];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                if (a[r, c] != 0)
                {
                    result[r, c] = a[r, c] / (Math.Sqrt(degree[r]) * Math.Sqrt(degree[c]));
                }
            }
        }
        return result;
    }

    /// <summary>R_left = D_u^{-1} R with R binary.</summary>
    private static double[,] ReferenceLeft(int users, int items, int[] u, int[] i)
    {
        var r = new double[users, items];
        for (int e = 0; e < u.Length; e++)
        {
            r[u[e], i[e]] = 1;
        }
        for (int x = 0; x < users; x++)
        {
            double degree = 0;
            for (int y = 0; y < items; y++)
            {
                degree += r[x, y];
            }
            for (int y = 0; y < items; y++)
            {
                if (degree > 0)
                {
                    r[x, y] /= degree;
                }
            }
        }
        return r;
    }

    /// <summary>W[s,t] = Σ weights (in input order); optionally W ← max(W, Wᵀ) elementwise; then the normalization.</summary>
    private static double[,] ReferenceEdges(int rows, int columns, int[] s, int[] t, float[]? w, bool symmetrize, GraphNormalization normalization)
    {
        var m = new double[rows, columns];
        for (int e = 0; e < s.Length; e++)
        {
            m[s[e], t[e]] += w is null ? 1.0 : w[e];
        }
        if (symmetrize)
        {
            var sym = new double[rows, columns];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    sym[r, c] = Math.Max(m[r, c], m[c, r]);
                }
            }
            m = sym;
        }
        var rowSum = new double[rows];
        var colSum = new double[columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                rowSum[r] += m[r, c];
                colSum[c] += m[r, c];
            }
        }
        var result = new double[rows, columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                if (m[r, c] == 0)
                {
                    continue;
                }
                result[r, c] = normalization switch
                {
                    GraphNormalization.None => m[r, c],
                    GraphNormalization.Symmetric => m[r, c] / Math.Sqrt(rowSum[r] * colSum[c]),
                    GraphNormalization.Left => m[r, c] / rowSum[r],
                    GraphNormalization.Right => m[r, c] / colSum[c],
                    _ => throw new ArgumentOutOfRangeException(nameof(normalization)),
                };
            }
        }
        return result;
    }

    /// <summary>
    /// Asserts the CSR has rows sorted by column without repeats, stores exactly the nonzero
    /// entries of <paramref name="expected"/>, and matches each within <see cref="RelTol"/>.
    /// </summary>
    private static void AssertMatches(double[,] expected, CsrMatrix actual, string what)
    {
        int rows = expected.GetLength(0), columns = expected.GetLength(1);
        Assert.Equal(rows, actual.Rows);
        Assert.Equal(columns, actual.Columns);
        var dense = new double[rows, columns];
        var stored = new bool[rows, columns];
        for (int r = 0; r < rows; r++)
        {
            for (int k = actual.RowPointers[r]; k < actual.RowPointers[r + 1]; k++)
            {
                int c = actual.ColumnIndices[k];
                if (k > actual.RowPointers[r])
                {
                    Assert.True(actual.ColumnIndices[k - 1] < c, $"{what}: row {r} is not strictly sorted by column");
                }
                stored[r, c] = true;
                dense[r, c] = actual.Values[k];
            }
        }
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                double e = expected[r, c], a = dense[r, c];
                if (e == 0)
                {
                    Assert.False(stored[r, c], $"{what}: ({r}, {c}) should not be stored, holds {a}");
                }
                else
                {
                    Assert.True(stored[r, c], $"{what}: ({r}, {c}) = {e} is missing");
                    Assert.True(Math.Abs(a - e) <= RelTol * Math.Abs(e), $"{what}: ({r}, {c}) is {a}, expected {e}");
                }
            }
        }
    }

    private static (int[] U, int[] I) RandomInteractions(int users, int items, int count, int seed)
    {
        // Leaves the last user and the last item without interactions and repeats some pairs.
        var rng = new Random(seed);
        var u = new int[count];
        var i = new int[count];
        for (int e = 0; e < count; e++)
        {
            if (e > 0 && rng.NextDouble() < 0.15)
            {
                int copy = rng.Next(e);
                u[e] = u[copy];
                i[e] = i[copy];
                continue;
            }
            u[e] = rng.Next(users - 1);
            i[e] = (int)((items - 1) * Math.Pow(rng.NextDouble(), 2));
        }
        return (u, i);
    }

    // ---- (a) UserItemAdjacency -------------------------------------------------------------

    [Fact]
    public void UserItemAdjacency_on_a_handwritten_example()
    {
        // Users 0, 1; items 0, 1, 2 (nodes 2, 3, 4). (0,0) is given twice and counts once.
        // Degrees: u0 = 2, u1 = 1, i0 = 1, i1 = 2, i2 = 0.
        CsrMatrix a = GraphBuilder.UserItemAdjacency(2, 3, [0, 0, 1, 0], [0, 1, 1, 0]);
        float s2 = (float)(1 / Math.Sqrt(2));
        Assert.Equal(5, a.Rows);
        Assert.Equal(new[] { 0, 2, 3, 4, 6, 6 }, a.RowPointers.ToArray());
        Assert.Equal(new[] { 2, 3, 3, 0, 0, 1 }, a.ColumnIndices.ToArray());
        Assert.Equal(new[] { s2, 0.5f, s2, s2, 0.5f, s2 }, a.Values.ToArray());
    }

    [Theory]
    [InlineData(13, 9, 40, 1)]
    [InlineData(40, 25, 150, 2)]
    [InlineData(5, 60, 90, 3)]
    [InlineData(2, 2, 7, 4)]
    public void UserItemAdjacency_matches_the_dense_reference(int users, int items, int count, int seed)
    {
        (int[] u, int[] i) = RandomInteractions(users, items, count, seed);
        CsrMatrix a = GraphBuilder.UserItemAdjacency(users, items, u, i);

        AssertMatches(ReferenceAdjacency(users, items, u, i), a, $"Ã {users}×{items}");
        Assert.True(a.IsSymmetric());
        Assert.Equal(0, a.RowLength(users - 1));          // the user without interactions
        Assert.Equal(0, a.RowLength(users + items - 1));  // the item without interactions
    }

    [Fact]
    public void UserItemAdjacency_without_interactions_is_all_empty()
    {
        CsrMatrix a = GraphBuilder.UserItemAdjacency(3, 4, [], []);
        Assert.Equal(7, a.Rows);
        Assert.Equal(7, a.Columns);
        Assert.Equal(0, a.NonZeros);
        Assert.Equal(0, GraphBuilder.UserItemAdjacency(0, 0, [], []).Rows);
    }

    // ---- (b) FromEdges --------------------------------------------------------------------

    public static TheoryData<GraphNormalization> Normalizations()
        => new(Enum.GetValues<GraphNormalization>());

    private static (int[] S, int[] T, float[] W) RandomEdges(int rows, int columns, int count, int seed)
    {
        var rng = new Random(seed);
        var s = new int[count];
        var t = new int[count];
        var w = new float[count];
        for (int e = 0; e < count; e++)
        {
            // The last row and last column stay without edges (when there are two or more); some
            // edges repeat with other weights.
            if (e > 0 && rng.NextDouble() < 0.2)
            {
                int copy = rng.Next(e);
                s[e] = s[copy];
                t[e] = t[copy];
            }
            else
            {
                s[e] = rng.Next(rows - 1);
                t[e] = rng.Next(columns - 1);
            }
            w[e] = (float)(0.25 + 3 * rng.NextDouble());
        }
        return (s, t, w);
    }

    [Theory]
    [MemberData(nameof(Normalizations))]
    public void FromEdges_rectangular_matches_the_dense_reference(GraphNormalization normalization)
    {
        foreach ((int rows, int columns) in new[] { (9, 14), (14, 9), (1, 6), (6, 1) })
        {
            (int[] s, int[] t, float[] w) = RandomEdges(rows, columns, 3 * (rows + columns), rows * 100 + columns);
            CsrMatrix m = GraphBuilder.FromEdges(rows, columns, s, t, w, symmetrize: false, normalization);
            AssertMatches(ReferenceEdges(rows, columns, s, t, w, false, normalization), m, $"{rows}×{columns} {normalization}");
        }
    }

    [Theory]
    [MemberData(nameof(Normalizations))]
    public void FromEdges_square_matches_the_dense_reference_with_and_without_symmetrizing(GraphNormalization normalization)
    {
        const int n = 17;
        (int[] s, int[] t, float[] w) = RandomEdges(n, n, 60, seed: 5);
        foreach (bool symmetrize in new[] { false, true })
        {
            CsrMatrix m = GraphBuilder.FromEdges(n, n, s, t, w, symmetrize, normalization);
            AssertMatches(ReferenceEdges(n, n, s, t, w, symmetrize, normalization), m, $"{n}×{n} {normalization} symmetrize={symmetrize}");
            Assert.Equal(0, m.RowLength(n - 1)); // node n−1 has no edges in either direction
            if (symmetrize && normalization is GraphNormalization.None or GraphNormalization.Symmetric)
            {
                Assert.True(m.IsSymmetric(), $"{normalization} of a symmetrized graph must be exactly symmetric");
            }
        }
    }

    [Fact]
    public void FromEdges_coalesces_duplicates_by_sum_before_symmetrizing_by_max()
    {
        // (0,1): 1 + 1 = 2 vs (1,0): 1.5 → both 2 (max after summing; max before summing would give 2.5 or 3).
        // (2,3): 4, one direction only → (3,2) = 4 as well.
        // (4,5): 3 + 3 = 6 vs (5,4): 5 → both 6.
        // (1,1): self loop 0.25 three times → 0.75, kept on the diagonal.
        int[] s = [0, 1, 0, 2, 4, 5, 4, 1, 1, 1];
        int[] t = [1, 0, 1, 3, 5, 4, 5, 1, 1, 1];
        float[] w = [1f, 1.5f, 1f, 4f, 3f, 5f, 3f, 0.25f, 0.25f, 0.25f];

        CsrMatrix coalesced = GraphBuilder.FromEdges(6, 6, s, t, w, symmetrize: false, GraphNormalization.None);
        float[] d = coalesced.ToDense();
        Assert.Equal(2f, d[0 * 6 + 1]);
        Assert.Equal(1.5f, d[1 * 6 + 0]);
        Assert.Equal(0.75f, d[1 * 6 + 1]);
        Assert.Equal(4f, d[2 * 6 + 3]);
        Assert.Equal(0f, d[3 * 6 + 2]);
        Assert.Equal(6f, d[4 * 6 + 5]);
        Assert.Equal(5f, d[5 * 6 + 4]);
        Assert.Equal(6, coalesced.NonZeros);

        CsrMatrix sym = GraphBuilder.FromEdges(6, 6, s, t, w, symmetrize: true, GraphNormalization.None);
        Assert.Equal(new[] { 0, 1, 3, 4, 5, 6, 7 }, sym.RowPointers.ToArray());
        Assert.Equal(new[] { 1, 0, 1, 3, 2, 5, 4 }, sym.ColumnIndices.ToArray());
        Assert.Equal(new[] { 2f, 2f, 0.75f, 4f, 4f, 6f, 6f }, sym.Values.ToArray());
        Assert.True(sym.IsSymmetric());
    }

    [Fact]
    public void FromEdges_self_loops_are_kept_and_count_in_the_degree()
    {
        // Node 0: self loop 2 and edge (0,1) of weight 1 (symmetrized). Degrees: d0 = 3, d1 = 1.
        CsrMatrix m = GraphBuilder.FromEdges(2, 2, [0, 0], [0, 1], [2f, 1f], symmetrize: true, GraphNormalization.Symmetric);
        float[] d = m.ToDense();
        Assert.Equal((float)(2 / 3.0), d[0]);
        Assert.Equal((float)(1 / Math.Sqrt(3)), d[1]);
        Assert.Equal((float)(1 / Math.Sqrt(3)), d[2]);
        Assert.Equal(0f, d[3]);
        Assert.Equal(3, m.NonZeros);
    }

    [Theory]
    [MemberData(nameof(Normalizations))]
    public void FromEdges_empty_weights_mean_weight_one(GraphNormalization normalization)
    {
        (int[] s, int[] t, _) = RandomEdges(11, 8, 40, seed: 9);
        float[] ones = Enumerable.Repeat(1f, s.Length).ToArray();
        CsrMatrix implicitOnes = GraphBuilder.FromEdges(11, 8, s, t, [], symmetrize: false, normalization);
        CsrMatrix explicitOnes = GraphBuilder.FromEdges(11, 8, s, t, ones, symmetrize: false, normalization);
        AssertMatches(ReferenceEdges(11, 8, s, t, null, false, normalization), implicitOnes, $"implicit ones {normalization}");
        Assert.Equal(explicitOnes.RowPointers.ToArray(), implicitOnes.RowPointers.ToArray());
        Assert.Equal(explicitOnes.ColumnIndices.ToArray(), implicitOnes.ColumnIndices.ToArray());
        Bits.AssertBitsEqual(explicitOnes.Values.ToArray(), implicitOnes.Values.ToArray(), "explicit vs implicit ones");
    }

    [Theory]
    [InlineData(GraphNormalization.Left)]
    [InlineData(GraphNormalization.Right)]
    public void FromEdges_left_rows_and_right_columns_sum_to_one(GraphNormalization normalization)
    {
        (int[] s, int[] t, float[] w) = RandomEdges(12, 10, 50, seed: 12);
        CsrMatrix m = GraphBuilder.FromEdges(12, 10, s, t, w, symmetrize: false, normalization);
        float[] d = m.ToDense();
        for (int r = 0; r < 12; r++)
        {
            double rowSum = 0;
            for (int c = 0; c < 10; c++)
            {
                rowSum += d[r * 10 + c];
            }
            if (normalization == GraphNormalization.Left)
            {
                Assert.Equal(m.RowLength(r) == 0 ? 0.0 : 1.0, rowSum, 1e-5);
            }
        }
        for (int c = 0; c < 10; c++)
        {
            double colSum = 0;
            for (int r = 0; r < 12; r++)
            {
                colSum += d[r * 10 + c];
            }
            if (normalization == GraphNormalization.Right)
            {
                Assert.Equal(c == 9 ? 0.0 : 1.0, colSum, 1e-5); // column 9 has no edges
            }
        }
        Assert.All(d, v => Assert.True(float.IsFinite(v)));
    }

    // ---- (c) LeftNormalizedInteractions ------------------------------------------------------

    [Theory]
    [InlineData(13, 9, 40, 1)]
    [InlineData(30, 50, 200, 2)]
    [InlineData(4, 3, 11, 3)]
    public void LeftNormalizedInteractions_matches_the_dense_reference(int users, int items, int count, int seed)
    {
        (int[] u, int[] i) = RandomInteractions(users, items, count, seed);
        CsrMatrix r = GraphBuilder.LeftNormalizedInteractions(users, items, u, i);
        AssertMatches(ReferenceLeft(users, items, u, i), r, $"R_left {users}×{items}");
        for (int x = 0; x < users; x++)
        {
            double sum = 0;
            for (int k = r.RowPointers[x]; k < r.RowPointers[x + 1]; k++)
            {
                sum += r.Values[k];
            }
            // A row of deg copies of fl(1/deg) sums to 1 within deg·2⁻²⁴.
            Assert.Equal(r.RowLength(x) == 0 ? 0.0 : 1.0, sum, 1e-5);
        }
        Assert.Equal(0, r.RowLength(users - 1));
    }

    [Fact]
    public void LeftNormalizedInteractions_collapses_duplicates()
    {
        // User 0: items 1, 1, 2 → {1, 2}, each 1/2. User 1: none. User 2: item 0 three times → 1.
        CsrMatrix r = GraphBuilder.LeftNormalizedInteractions(3, 3, [0, 0, 2, 0, 2, 2], [1, 1, 0, 2, 0, 0]);
        Assert.Equal(new[] { 0, 2, 2, 3 }, r.RowPointers.ToArray());
        Assert.Equal(new[] { 1, 2, 0 }, r.ColumnIndices.ToArray());
        Assert.Equal(new[] { 0.5f, 0.5f, 1f }, r.Values.ToArray());
    }

    // ---- Bad input -----------------------------------------------------------------------

    public static TheoryData<string> InteractionBuilders() => new() { "adjacency", "left" };

    private static Func<int, int, int[], int[], CsrMatrix> Builder(string name) => name switch
    {
        "adjacency" => (u, i, a, b) => GraphBuilder.UserItemAdjacency(u, i, a, b),
        "left" => (u, i, a, b) => GraphBuilder.LeftNormalizedInteractions(u, i, a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(InteractionBuilders))]
    public void Interaction_builders_reject_bad_input(string name)
    {
        Func<int, int, int[], int[], CsrMatrix> build = Builder(name);

        Assert.Equal("users", Assert.Throws<ArgumentOutOfRangeException>(() => build(-1, 3, [], [])).ParamName);
        Assert.Equal("items", Assert.Throws<ArgumentOutOfRangeException>(() => build(3, -1, [], [])).ParamName);

        Assert.ThrowsAny<ArgumentException>(() => build(3, 3, [0, 1], [0]));
        Assert.ThrowsAny<ArgumentException>(() => build(3, 3, [0], [0, 1]));

        // User id 7 at position 2 (and 9 at position 3) with 3 users: position 2 is reported.
        // (Offending values are chosen unlike the positions so the message check is unambiguous.)
        var user = ArgumentAssert.Throws("userIds", () => build(3, 4, [0, 1, 7, 9], [0, 0, 0, 0]));
        ArgumentAssert.NamesIndex(user, 2, 3);
        var negative = ArgumentAssert.Throws("userIds", () => build(3, 4, [0, -1], [0, 0]));
        ArgumentAssert.NamesIndex(negative, 1);
        var item = ArgumentAssert.Throws("itemIds", () => build(3, 4, [0, 1, 2], [3, -2, 4]));
        ArgumentAssert.NamesIndex(item, 1, 2);
        // Ids into an empty side.
        ArgumentAssert.Throws("itemIds", () => build(3, 0, [0], [0]));
    }

    [Fact]
    public void FromEdges_rejects_bad_input()
    {
        GraphNormalization none = GraphNormalization.None;
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => GraphBuilder.FromEdges(-1, 3, [], [], [], false, none)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => GraphBuilder.FromEdges(3, -1, [], [], [], false, none)).ParamName);

        Assert.ThrowsAny<ArgumentException>(() => GraphBuilder.FromEdges(3, 3, [0, 1], [0], [], false, none));
        ArgumentAssert.Throws("weights", () => GraphBuilder.FromEdges(3, 3, [0, 1], [0, 1], [1f], false, none));
        ArgumentAssert.Throws("weights", () => GraphBuilder.FromEdges(3, 3, [0, 1], [0, 1], [1f, 1f, 1f], false, none));

        var source = ArgumentAssert.Throws("sources", () => GraphBuilder.FromEdges(3, 5, [0, 2, 8, 9], [0, 0, 0, 0], [], false, none));
        ArgumentAssert.NamesIndex(source, 2, 3);
        var target = ArgumentAssert.Throws("targets", () => GraphBuilder.FromEdges(3, 5, [0, 0, 0], [4, -1, 6], [], false, none));
        ArgumentAssert.NamesIndex(target, 1, 2);

        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var weight = ArgumentAssert.Throws("weights", () => GraphBuilder.FromEdges(3, 3, [0, 1, 2], [1, 2, 0], [1f, bad, float.NaN], false, none));
            ArgumentAssert.NamesIndex(weight, 1, 2);
        }

        ArgumentAssert.Throws("symmetrize", () => GraphBuilder.FromEdges(3, 4, [0], [1], [], symmetrize: true, none));
        ArgumentAssert.Throws("symmetrize", () => GraphBuilder.FromEdges(4, 3, [], [], [], symmetrize: true, none));
        Assert.Throws<ArgumentOutOfRangeException>(() => GraphBuilder.FromEdges(3, 3, [0], [1], [], false, (GraphNormalization)42));

        // max(w_ij, w_ji) with a missing direction read as 0 is only meaningful for non-negative weights.
        var negative = ArgumentAssert.Throws("weights", () => GraphBuilder.FromEdges(3, 3, [0, 1], [1, 2], [1f, -2f], symmetrize: true, none));
        ArgumentAssert.NamesIndex(negative, 1);
        Assert.Equal(-2f, GraphBuilder.FromEdges(3, 3, [0, 1], [1, 2], [1f, -2f], symmetrize: false, none).Values[1]);

        // Duplicates whose float64 sum leaves the float32 range: a clear error naming the edge and the weights.
        var overflow = ArgumentAssert.Throws("weights", () => GraphBuilder.FromEdges(3, 3, [2, 2], [1, 1], [3e38f, 3e38f], false, none));
        Assert.Contains("(2, 1)", overflow.Message);
    }

    // ---- SyntheticGraphs.PowerLawInteractionsAtScale ------------------------------------

    [Fact]
    public void PowerLawInteractionsAtScale_is_deterministic_per_seed_across_parallel_blocks()
    {
        // 50,000 users: 13 blocks of 4,096 dealt to whichever threads are free.
        (int[] u1, int[] i1) = SyntheticGraphs.PowerLawInteractionsAtScale(50_000, 3_000, 400_000, seed: 9);
        (int[] u2, int[] i2) = SyntheticGraphs.PowerLawInteractionsAtScale(50_000, 3_000, 400_000, seed: 9);
        Assert.Equal(u1, u2);
        Assert.Equal(i1, i2);
        (int[] u3, int[] i3) = SyntheticGraphs.PowerLawInteractionsAtScale(50_000, 3_000, 400_000, seed: 10);
        Assert.False(u1.AsSpan().SequenceEqual(u3) && i1.AsSpan().SequenceEqual(i3), "another seed gave the same pairs");
    }

    [Theory]
    [InlineData(50_000, 3_000, 400_000)]
    [InlineData(200, 40, 3_000)]  // the cap (10 items per user) binds for the most active users
    [InlineData(1, 1, 1)]
    [InlineData(7, 7, 0)]
    public void PowerLawInteractionsAtScale_gives_distinct_in_range_pairs_near_the_count(int users, int items, int interactions)
    {
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractionsAtScale(users, items, interactions, seed: 7);
        Assert.Equal(u.Length, i.Length);
        var pairs = new HashSet<(int, int)>();
        for (int e = 0; e < u.Length; e++)
        {
            Assert.InRange(u[e], 0, users - 1);
            Assert.InRange(i[e], 0, items - 1);
            Assert.True(pairs.Add((u[e], i[e])), $"pair ({u[e]}, {i[e]}) appears twice");
        }
        // User r's degree is x_r = interactions · (r + 1)^−0.8 / Σ, rounded up or down at random, then capped at
        // c = max(1, items / 4); for an integer c the expected capped degree is exactly min(x_r, c). The rounding's
        // variance is below 1/4 per user, so the total lies within 3·√users / 2 + 1 of Σ min(x_r, c) (six sigma).
        double weightSum = Enumerable.Range(1, users).Sum(r => Math.Pow(r, -0.8));
        int cap = Math.Max(1, items / 4);
        double expected = Enumerable.Range(1, users).Sum(r => Math.Min(interactions * Math.Pow(r, -0.8) / weightSum, cap));
        Assert.True(Math.Abs(u.Length - expected) <= 1.5 * Math.Sqrt(users) + 1, $"{u.Length} pairs, {expected:F1} expected");
    }

    [Fact]
    public void PowerLawInteractionsAtScale_is_skewed_like_PowerLawInteractions()
    {
        const int users = 3000, items = 600, interactions = 20_000;
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractionsAtScale(users, items, interactions, seed: 3);
        int[] itemCounts = new int[items], userCounts = new int[users];
        foreach (int item in i)
        {
            itemCounts[item]++;
        }
        foreach (int user in u)
        {
            userCounts[user]++;
        }
        Array.Sort(itemCounts);
        Array.Sort(userCounts);
        Assert.True(itemCounts[^1] >= 10 * Math.Max(1, itemCounts[items / 2]), $"most popular item {itemCounts[^1]}, median item {itemCounts[items / 2]}");
        Assert.True(userCounts[^1] >= 10 * Math.Max(1, userCounts[users / 2]), $"most active user {userCounts[^1]}, median user {userCounts[users / 2]}");
    }

    [Fact]
    public void PowerLawInteractionsAtScale_rejects_bad_arguments_naming_them()
    {
        Assert.Equal("users", Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractionsAtScale(0, 5, 5, 1)).ParamName);
        Assert.Equal("items", Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractionsAtScale(5, 0, 5, 1)).ParamName);
        Assert.Equal("interactions", Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractionsAtScale(5, 5, -1, 1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractionsAtScale(5, 5, 5, 1, userExponent: double.NaN));
    }

    // ---- SyntheticGraphs.PowerLawInteractions -------------------------------------------

    [Fact]
    public void PowerLawInteractions_is_deterministic_per_seed()
    {
        (int[] u1, int[] i1) = SyntheticGraphs.PowerLawInteractions(500, 300, 4000, seed: 42);
        (int[] u2, int[] i2) = SyntheticGraphs.PowerLawInteractions(500, 300, 4000, seed: 42);
        Assert.Equal(u1, u2);
        Assert.Equal(i1, i2);
        (int[] u3, int[] i3) = SyntheticGraphs.PowerLawInteractions(500, 300, 4000, seed: 43);
        Assert.False(u1.AsSpan().SequenceEqual(u3) && i1.AsSpan().SequenceEqual(i3), "another seed gave the same pairs");
        Assert.False(u1.AsSpan().SequenceEqual(u3), "another seed gave the same users");
        Assert.False(i1.AsSpan().SequenceEqual(i3), "another seed gave the same items");
    }

    [Theory]
    [InlineData(500, 300, 4000)]
    [InlineData(20, 10, 100)]  // the maximum: half of all pairs
    [InlineData(1, 2, 1)]
    [InlineData(7, 7, 0)]
    public void PowerLawInteractions_gives_the_exact_count_of_distinct_in_range_pairs(int users, int items, int interactions)
    {
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractions(users, items, interactions, seed: 7);
        Assert.Equal(interactions, u.Length);
        Assert.Equal(interactions, i.Length);
        var pairs = new HashSet<(int, int)>();
        for (int e = 0; e < interactions; e++)
        {
            Assert.InRange(u[e], 0, users - 1);
            Assert.InRange(i[e], 0, items - 1);
            Assert.True(pairs.Add((u[e], i[e])), $"pair ({u[e]}, {i[e]}) appears twice");
        }
    }

    [Fact]
    public void PowerLawInteractions_is_skewed()
    {
        const int users = 3000, items = 600, interactions = 20_000;
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractions(users, items, interactions, seed: 3);
        int[] itemCounts = new int[items];
        foreach (int item in i)
        {
            itemCounts[item]++;
        }
        int[] userCounts = new int[users];
        foreach (int user in u)
        {
            userCounts[user]++;
        }
        Array.Sort(itemCounts);
        Array.Sort(userCounts);
        // Uniform sampling would give max/median ≈ 1.5; rank^−0.9 gives ~100× (capped by distinctness).
        int itemMedian = Math.Max(1, itemCounts[items / 2]);
        Assert.True(itemCounts[^1] >= 10 * itemMedian, $"most popular item {itemCounts[^1]}, median item {itemCounts[items / 2]}");
        int userMedian = Math.Max(1, userCounts[users / 2]);
        Assert.True(userCounts[^1] >= 10 * userMedian, $"most active user {userCounts[^1]}, median user {userCounts[users / 2]}");
    }

    [Fact]
    public void PowerLawInteractions_rejects_impossible_requests()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractions(0, 5, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractions(5, 0, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractions(5, 5, -1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractions(4, 5, 11, 1)); // > 20 / 2
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractions(5, 5, 3, 1, userExponent: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticGraphs.PowerLawInteractions(5, 5, 3, 1, itemExponent: -1));
    }
}
