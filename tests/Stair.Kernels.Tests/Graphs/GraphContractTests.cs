// The graph types' contracts that the dense comparisons in CsrMatrixTests and GraphBuilderTests do not reach
// (found by mutation testing, kernels.md "Mutation score"): CsrBuilder's argument and state checks, row access
// out of range, IsSymmetric on a pattern whose every row and column count matches its transpose's, ToDense past
// an int's elements, zero and negative degree sums under each normalization, and the empty symmetrized list.
namespace Stair.Kernels.Tests.Graphs;

public class GraphContractTests
{
    [Fact]
    public void CsrBuilder_rejects_negative_extents_by_name()
    {
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new CsrBuilder(-1, 2, 0)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => new CsrBuilder(2, -1, 0)).ParamName);
        Assert.Equal("nonZeros", Assert.Throws<ArgumentOutOfRangeException>(() => new CsrBuilder(2, 2, -1)).ParamName);
    }

    [Fact]
    public void CsrBuilder_makes_one_matrix_in_managed_storage()
    {
        var builder = new CsrBuilder(2, 3, 2);
        builder.AppendRow([2], [1f]);
        builder.AppendRow([0], [2f]);
        CsrMatrix m = builder.Build();
        // The public builder keeps small matrices in arrays: native storage is for more than an array holds.
        Assert.False(m.IsNativeStorage);
        Assert.Equal(new[] { 0f, 0f, 1f, 2f, 0f, 0f }, m.ToDense());
        Assert.Contains("built already", Assert.Throws<InvalidOperationException>(() => builder.AppendRow([], [])).Message);
        Assert.Contains("built already", Assert.Throws<InvalidOperationException>(() => builder.Build()).Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    [InlineData(int.MaxValue)]
    public void Row_access_outside_the_rows_names_the_row(int row)
    {
        var m = new CsrMatrix(3, 3, [0, 1, 1, 2], [1, 0], [1f, 2f]);
        Assert.Equal(row, Assert.Throws<ArgumentOutOfRangeException>(() => m.RowLength(row)).ActualValue);
        Assert.Equal(row, Assert.Throws<ArgumentOutOfRangeException>(() => m.RowColumns(row).Length).ActualValue);
        Assert.Equal(row, Assert.Throws<ArgumentOutOfRangeException>(() => m.RowValues(row).Length).ActualValue);
    }

    [Fact]
    public void A_cycle_is_not_symmetric_although_every_row_and_column_has_one_entry()
    {
        // 0 → 1 → 2 → 0, equal weights, sorted rows: the in-place check must compare the mirrored entry's
        // column, not only that row c has an unmatched entry left and its value.
        var cycle = new CsrMatrix(3, 3, [0, 1, 2, 3], [1, 2, 0], [1f, 1f, 1f]);
        Assert.False(cycle.IsSymmetric());
        var swap = new CsrMatrix(2, 2, [0, 1, 2], [1, 0], [1f, 1f]);
        Assert.True(swap.IsSymmetric());
    }

    [Fact]
    public void Unsorted_rows_compare_every_value_with_the_transpose()
    {
        // Row 0 stored unsorted sends IsSymmetric through the transpose. The pattern is symmetric, every column
        // index matches, one mirrored value differs: A[0, 2] = 3, A[2, 0] = 4.
        var a = new CsrMatrix(3, 3, [0, 2, 3, 4], [2, 1, 0, 0], [3f, 5f, 5f, 4f]);
        Assert.False(a.IsSymmetric());
        var b = new CsrMatrix(3, 3, [0, 2, 3, 4], [2, 1, 0, 0], [3f, 5f, 5f, 3f]);
        Assert.True(b.IsSymmetric());
        // Every row holds as many entries as its column, all values 1, the columns differ: sorted row 0 is (1, 2),
        // the transpose's row 0 is (1, 3).
        var c = new CsrMatrix(4, 4, [0, 2, 3, 4, 5], [2, 1, 0, 3, 0], [1f, 1f, 1f, 1f, 1f]);
        Assert.False(c.IsSymmetric());
    }

    [Fact]
    public void ToDense_refuses_more_elements_than_an_array_holds()
    {
        // 65,536 × 65,537 = 2³² + 65,536 elements: unchecked, the count would wrap to 65,536.
        var m = new CsrMatrix(65_536, 65_537, new int[65_537], [], []);
        Assert.Throws<OverflowException>(() => m.ToDense());
    }

    [Fact]
    public void Entry_buffer_slices_outside_the_entries_are_refused()
    {
        var buffer = EntryBuffer<int>.Allocate(4);
        Assert.Equal(2, buffer.Slice(2, 2).Length);
        Assert.Equal(0, buffer.Slice(4, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Slice(3, 2).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Slice(5, 0).Length);
        // Native storage has no array bounds behind it: the check is the only thing between a bad slice and
        // memory past the allocation.
        var native = EntryBuffer<int>.Allocate(4, native: true);
        Assert.True(native.IsNative);
        Assert.Equal(2, native.Slice(2, 2).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => native.Slice(3, 2).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => native.Slice(5, 0).Length);
    }

    [Fact]
    public void FromEdges_takes_zero_extents_and_zero_weights()
    {
        CsrMatrix none = GraphBuilder.FromEdges(0, 0, [], [], [], symmetrize: false, GraphNormalization.None);
        Assert.Equal((0, 0, 0L), (none.Rows, none.Columns, none.NonZeros));
        CsrMatrix wide = GraphBuilder.FromEdges(0, 4, [], [], [], symmetrize: false, GraphNormalization.Symmetric);
        Assert.Equal((0, 4), (wide.Rows, wide.Columns));
        CsrMatrix tall = GraphBuilder.FromEdges(4, 0, [], [], [], symmetrize: false, GraphNormalization.Left);
        Assert.Equal((4, 0), (tall.Rows, tall.Columns));
        // Symmetrizing an empty list: nothing to merge (and no capacity computed from zero entries).
        CsrMatrix empty = GraphBuilder.FromEdges(3, 3, [], [], [], symmetrize: true, GraphNormalization.Symmetric);
        Assert.Equal((3, 3, 0L), (empty.Rows, empty.Columns, empty.NonZeros));
        // A zero weight is non-negative, so symmetrizing accepts it.
        CsrMatrix zero = GraphBuilder.FromEdges(2, 2, [0], [1], [0f], symmetrize: true, GraphNormalization.None);
        Assert.Equal(new[] { 0f, 0f, 0f, 0f }, zero.ToDense());
    }

    [Theory]
    [InlineData(GraphNormalization.Symmetric)]
    [InlineData(GraphNormalization.Left)]
    [InlineData(GraphNormalization.Right)]
    public void Degree_sums_of_zero_or_below_scale_by_zero_not_to_infinity(GraphNormalization normalization)
    {
        // Edges (0,0,+1) (0,1,−1) (1,2,+1) (1,1,−2) (2,2,+2) (2,3,−1) (3,3,+1): row sums (0, −1, 1, 1), column
        // sums (1, −3, 3, 0). Symmetric scales an entry by 1/√(d_r·d_c) only where both sums are positive, Left
        // by 1/d_r where d_r ≠ 0, Right by 1/d_c where d_c ≠ 0; everywhere else by 0 (never ±∞ or NaN).
        CsrMatrix g = GraphBuilder.FromEdges(4, 4, [0, 0, 1, 1, 2, 2, 3], [0, 1, 2, 1, 2, 3, 3], [1f, -1f, 1f, -2f, 2f, -1f, 1f],
            symmetrize: false, normalization);
        float[] dense = g.ToDense();
        var expected = new double[16];
        switch (normalization)
        {
            case GraphNormalization.Symmetric:
                expected[2 * 4 + 2] = 2 / Math.Sqrt(1 * 3.0);
                break;
            case GraphNormalization.Left:
                (expected[1 * 4 + 1], expected[1 * 4 + 2], expected[2 * 4 + 2], expected[2 * 4 + 3], expected[3 * 4 + 3]) = (2, -1, 2, -1, 1);
                break;
            default:
                (expected[0], expected[1], expected[1 * 4 + 1], expected[1 * 4 + 2], expected[2 * 4 + 2]) = (1, 1 / 3.0, 2 / 3.0, 1 / 3.0, 2 / 3.0);
                break;
        }
        for (int k = 0; k < expected.Length; k++)
        {
            // One float64 division (and square root) rounded once to float32: within 2⁻²⁴ relative; zeros exact.
            Assert.True(Math.Abs(dense[k] - expected[k]) <= 6e-8 * Math.Abs(expected[k]), $"{normalization} [{k / 4}, {k % 4}]: {dense[k]} vs {expected[k]}");
        }
    }
}
