// CsrMatrix: constructor validation (parameter and first offending index named), defensive
// copies, and Transpose / IsSymmetric / ToDense / RowLength against plain dense arithmetic.
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Graphs;

public class CsrMatrixTests
{
    // ---- Constructor validation -------------------------------------------------------

    [Fact]
    public void Negative_row_or_column_count_is_rejected()
    {
        var rows = Assert.Throws<ArgumentOutOfRangeException>(() => new CsrMatrix(-1, 3, [0], [], []));
        Assert.Equal("rows", rows.ParamName);
        var columns = Assert.Throws<ArgumentOutOfRangeException>(() => new CsrMatrix(2, -1, [0, 0, 0], [], []));
        Assert.Equal("columns", columns.ParamName);
    }

    [Theory]
    [InlineData(3, 0)] // empty
    [InlineData(3, 3)] // one short
    [InlineData(3, 5)] // one too many
    [InlineData(0, 0)] // a 0-row matrix still needs its single pointer
    public void Row_pointers_of_the_wrong_length_are_rejected(int rows, int pointerCount)
    {
        var pointers = new int[pointerCount];
        var ex = ArgumentAssert.Throws("rowPointers", () => new CsrMatrix(rows, 4, pointers, [], []));
        Assert.Contains((rows + 1).ToString(), ex.Message);
    }

    [Fact]
    public void Row_count_whose_successor_overflows_is_rejected_not_crashed()
    {
        // rows + 1 overflows int; the check must still be a clean ArgumentException.
        ArgumentAssert.Throws("rowPointers", () => new CsrMatrix(int.MaxValue, 1, [0], [], []));
    }

    [Fact]
    public void Row_pointers_not_starting_at_zero_are_rejected()
    {
        var ex = ArgumentAssert.Throws("rowPointers", () => new CsrMatrix(2, 3, [1, 2, 3], [0, 1, 2], [1f, 2f, 3f]));
        ArgumentAssert.NamesIndex(ex, 0);
    }

    [Fact]
    public void Decreasing_row_pointers_are_rejected_naming_the_first_decrease()
    {
        // Decreases at index 2 (1 after 3) and again at index 4 (2 after 3): index 2 is reported.
        var ex = ArgumentAssert.Throws("rowPointers",
            () => new CsrMatrix(4, 3, [0, 3, 1, 3, 2], [0, 1], [1f, 2f]));
        ArgumentAssert.NamesIndex(ex, 2, 4);
    }

    [Fact]
    public void Decrease_in_the_last_row_pointer_is_reported_at_that_index()
    {
        var ex = ArgumentAssert.Throws("rowPointers",
            () => new CsrMatrix(3, 3, [0, 1, 2, 1], [0], [1f]));
        ArgumentAssert.NamesIndex(ex, 3);
    }

    [Theory]
    [InlineData(2)] // fewer entries claimed than stored
    [InlineData(4)] // more entries claimed than stored
    public void Last_row_pointer_must_equal_the_entry_count(int last)
    {
        var ex = ArgumentAssert.Throws("rowPointers",
            () => new CsrMatrix(2, 3, [0, 1, last], [0, 1, 2], [1f, 2f, 3f]));
        ArgumentAssert.NamesIndex(ex, 2);
    }

    [Theory]
    [InlineData(new[] { 0, -1, 2, -5 }, 1, 3)]        // negative
    [InlineData(new[] { 0, 1, 3, 7 }, 2, 3)]          // equal to columns, later one beyond
    [InlineData(new[] { 2, 9, -1, 0 }, 1, 2)]         // ≥ columns before a negative one
    [InlineData(new[] { int.MinValue, 0, 0, 0 }, 0, -1)]
    public void Column_outside_the_matrix_is_rejected_naming_the_first_position(int[] columns, int first, int later)
    {
        float[] values = [1f, 2f, 3f, 4f];
        var ex = ArgumentAssert.Throws("columnIndices", () => new CsrMatrix(2, 3, [0, 2, 4], columns, values));
        ArgumentAssert.NamesIndex(ex, first, later >= 0 ? [later] : []);
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(2, 3)]
    [InlineData(0, 1)]
    public void Column_and_value_counts_must_agree(int columnCount, int valueCount)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(
            () => new CsrMatrix(1, 5, [0, columnCount], new int[columnCount], new float[valueCount]));
        Assert.Contains(ex.ParamName, new[] { "columnIndices", "values" });
    }

    public static TheoryData<float, int> NonFiniteValues() => new()
    {
        { float.NaN, 0 },
        { float.NaN, 3 },
        { float.PositiveInfinity, 1 },
        { float.NegativeInfinity, 2 },
    };

    [Theory]
    [MemberData(nameof(NonFiniteValues))]
    public void Non_finite_values_are_rejected_naming_the_first_position(float bad, int position)
    {
        float[] values = [0.5f, -1f, 2f, 3f];
        values[position] = bad;
        int later = position == 3 ? -1 : 3;
        if (later >= 0)
        {
            values[later] = float.NaN; // a second offender after the first
        }
        var ex = ArgumentAssert.Throws("values", () => new CsrMatrix(2, 4, [0, 2, 4], [0, 1, 2, 3], values));
        ArgumentAssert.NamesIndex(ex, position, later >= 0 ? [later] : []);
    }

    [Fact]
    public void Degenerate_but_valid_shapes_are_accepted()
    {
        var none = new CsrMatrix(0, 0, [0], [], []);
        Assert.Equal(0, none.Rows);
        Assert.Empty(none.ToDense());
        var wide = new CsrMatrix(0, 7, [0], [], []);
        Assert.Equal(7, wide.Columns);
        var tall = new CsrMatrix(5, 0, new int[6], [], []);
        Assert.Equal(5, tall.Rows);
        Assert.Equal(0, tall.NonZeros);
        // Unsorted and repeated columns in a row are allowed (kernels sum them in storage order).
        var repeated = new CsrMatrix(1, 3, [0, 3], [2, 0, 2], [1f, 2f, 3f]);
        Assert.Equal(new[] { 2f, 0f, 4f }, repeated.ToDense());
    }

    // ---- Copies -------------------------------------------------------------------------

    [Fact]
    public void Constructor_copies_its_inputs()
    {
        int[] ptr = [0, 2, 2, 3];
        int[] cols = [1, 0, 2];
        float[] vals = [1.5f, -2f, 3f];
        var m = new CsrMatrix(3, 3, ptr, cols, vals);
        float[] denseBefore = m.ToDense();

        ptr[1] = 1;
        ptr[3] = 99;
        cols[0] = 2;
        cols[2] = -7;
        vals[0] = float.NaN;
        vals[2] = 100f;

        Assert.Equal(new[] { 0, 2, 2, 3 }, m.RowPointers.ToArray());
        Assert.Equal(new[] { 1, 0, 2 }, m.ColumnIndices.ToArray());
        Assert.Equal(new[] { 1.5f, -2f, 3f }, m.Values.ToArray());
        Bits.AssertBitsEqual(denseBefore, m.ToDense(), "dense before and after");
    }

    // ---- Transpose / ToDense / RowLength / IsSymmetric ----------------------------------

    /// <summary>Random CSR with empty rows (about a quarter), optional repeated columns, values in [−1, 1).</summary>
    private static CsrMatrix RandomCsr(int rows, int columns, int seed, bool repeats = false, bool unsorted = true)
    {
        var rng = new Random(seed);
        var ptr = new int[rows + 1];
        var cols = new List<int>();
        var vals = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            if (columns > 0 && rng.NextDouble() >= 0.25)
            {
                var rowCols = new List<int>();
                int count = rng.Next(1, Math.Min(columns, 6) + 1);
                while (rowCols.Count < count)
                {
                    int c = rng.Next(columns);
                    if (repeats || !rowCols.Contains(c))
                    {
                        rowCols.Add(c);
                    }
                }
                if (!unsorted)
                {
                    rowCols.Sort();
                }
                foreach (int c in rowCols)
                {
                    cols.Add(c);
                    vals.Add((float)(2 * rng.NextDouble() - 1));
                }
            }
            ptr[r + 1] = cols.Count;
        }
        return new CsrMatrix(rows, columns, ptr, cols.ToArray(), vals.ToArray());
    }

    /// <summary>Dense row-major float64 copy, summing repeated entries in storage order.</summary>
    private static double[] Dense(CsrMatrix m)
    {
        var dense = new double[m.Rows * m.Columns];
        for (int r = 0; r < m.Rows; r++)
        {
            for (int k = m.RowPointers[r]; k < m.RowPointers[r + 1]; k++)
            {
                dense[r * m.Columns + m.ColumnIndices[k]] += m.Values[k];
            }
        }
        return dense;
    }

    public static TheoryData<int, int, bool> Shapes() => new()
    {
        { 0, 0, false }, { 0, 6, false }, { 6, 0, false }, { 1, 1, false }, { 1, 9, false }, { 9, 1, false },
        { 7, 3, false }, { 3, 7, false }, { 40, 25, false }, { 25, 40, true }, { 60, 60, false }, { 60, 60, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Transpose_matches_the_dense_transpose(int rows, int columns, bool repeats)
    {
        CsrMatrix a = RandomCsr(rows, columns, seed: rows * 31 + columns, repeats);
        CsrMatrix t = a.Transpose();

        Assert.Equal(columns, t.Rows);
        Assert.Equal(rows, t.Columns);
        Assert.Equal(a.NonZeros, t.NonZeros);
        Assert.Equal(columns + 1, t.RowPointers.Length);
        double[] da = Dense(a), dt = Dense(t);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                Assert.Equal(da[r * columns + c], dt[c * rows + r]);
            }
        }
        // Entries of each transposed row come out in increasing order of their original row.
        for (int r = 0; r < t.Rows; r++)
        {
            for (int k = t.RowPointers[r] + 1; k < t.RowPointers[r + 1]; k++)
            {
                Assert.True(t.ColumnIndices[k - 1] <= t.ColumnIndices[k], $"transposed row {r} is not sorted");
            }
        }
    }

    [Fact]
    public void Transpose_on_a_handwritten_matrix()
    {
        // [[0, 2, 0, 0],
        //  [0, 0, 0, 0],
        //  [3, 0, 0, 4]]   (row 2 stored unsorted)
        var a = new CsrMatrix(3, 4, [0, 1, 1, 3], [1, 3, 0], [2f, 4f, 3f]);
        CsrMatrix t = a.Transpose();
        Assert.Equal(new[] { 0, 1, 2, 2, 3 }, t.RowPointers.ToArray());
        Assert.Equal(new[] { 2, 0, 2 }, t.ColumnIndices.ToArray());
        Assert.Equal(new[] { 3f, 2f, 4f }, t.Values.ToArray());
        Assert.Equal(new[] { 0f, 0f, 3f, 2f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 4f }, t.ToDense());
    }

    [Fact]
    public void Double_transpose_of_a_sorted_matrix_is_the_matrix()
    {
        CsrMatrix a = RandomCsr(33, 21, seed: 4, unsorted: false);
        CsrMatrix back = a.Transpose().Transpose();
        Assert.Equal(a.RowPointers.ToArray(), back.RowPointers.ToArray());
        Assert.Equal(a.ColumnIndices.ToArray(), back.ColumnIndices.ToArray());
        Bits.AssertBitsEqual(a.Values.ToArray(), back.Values.ToArray(), "round trip values");
    }

    [Fact]
    public void Transpose_of_a_wide_matrix_allocates_one_array_of_row_offsets()
    {
        // A CSC .npz that declares hundreds of millions of rows (found by fuzzing) becomes a CSR through Transpose:
        // the result's Columns + 1 offsets (8 bytes each) are unavoidable, a second array of insertion cursors is
        // not (it doubled the memory: 5 GB for a 1 kB file declaring 318 M rows). 4 M columns, 3 entries: the
        // offsets are 32 MB; the bound allows 0.5 MB for the entries and the object, nowhere near a second array.
        const int columns = 4_000_000;
        var a = new CsrMatrix(2, columns, [0, 1, 3], [0, 5, columns - 1], [1f, 2f, 3f]);
        a.Transpose(); // first call: JIT and statics out of the measurement
        long before = GC.GetAllocatedBytesForCurrentThread();
        CsrMatrix t = a.Transpose();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 8L * (columns + 1), 8L * (columns + 1) + 512 * 1024);
        Assert.Equal(0L, t.RowOffsets[0]);
        Assert.Equal(1L, t.RowOffsets[1]);
        Assert.Equal(1L, t.RowOffsets[5]);
        Assert.Equal(2L, t.RowOffsets[6]);
        Assert.Equal(2L, t.RowOffsets[columns - 1]);
        Assert.Equal(3L, t.RowOffsets[columns]);
        Assert.Equal(new[] { 0, 1, 1 }, t.ColumnIndices.ToArray());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ToDense_matches_the_entries_and_RowLength_the_pointers(int rows, int columns, bool repeats)
    {
        CsrMatrix a = RandomCsr(rows, columns, seed: rows + 7 * columns + 1, repeats);
        float[] dense = a.ToDense();
        Assert.Equal(rows * columns, dense.Length);
        double[] expected = Dense(a);
        for (int k = 0; k < dense.Length; k++)
        {
            // At most 6 entries per row in [−1, 1): a float32 sum of them is within a few ulps of the float64 one.
            Assert.True(Math.Abs(dense[k] - expected[k]) <= 1e-6, $"dense[{k}] = {dense[k]}, expected {expected[k]}");
        }
        int total = 0;
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(a.RowPointers[r + 1] - a.RowPointers[r], a.RowLength(r));
            total += a.RowLength(r);
        }
        Assert.Equal(a.NonZeros, total);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.RowLength(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.RowLength(rows));
    }

    [Fact]
    public void ToDense_and_RowLength_on_a_handwritten_matrix()
    {
        // row 0: (0,1)=1, (0,0)=2, (0,1)=0.5 again → [2, 1.5]; row 1 empty; row 2: (2,0)=−4.
        var a = new CsrMatrix(3, 2, [0, 3, 3, 4], [1, 0, 1, 0], [1f, 2f, 0.5f, -4f]);
        Assert.Equal(new[] { 2f, 1.5f, 0f, 0f, -4f, 0f }, a.ToDense());
        Assert.Equal(3, a.RowLength(0));
        Assert.Equal(0, a.RowLength(1));
        Assert.Equal(1, a.RowLength(2));
    }

    [Fact]
    public void IsSymmetric_recognizes_symmetric_matrices_even_with_unsorted_rows()
    {
        Assert.True(new CsrMatrix(0, 0, [0], [], []).IsSymmetric());
        Assert.True(new CsrMatrix(4, 4, new int[5], [], []).IsSymmetric());
        Assert.True(new CsrMatrix(3, 3, [0, 1, 2, 3], [0, 1, 2], [1f, -2f, 3f]).IsSymmetric());
        // [[1, 2, 0], [2, 0, 5], [0, 5, 7]] with every row stored out of column order.
        var unsorted = new CsrMatrix(3, 3, [0, 2, 4, 6], [1, 0, 2, 0, 2, 1], [2f, 1f, 5f, 2f, 7f, 5f]);
        Assert.True(unsorted.IsSymmetric());
        Assert.True(TestGraphs.SmallAdjacency(30, 20, seed: 2).IsSymmetric());
    }

    [Fact]
    public void IsSymmetric_rejects_non_square_and_asymmetric_matrices()
    {
        Assert.False(new CsrMatrix(3, 4, new int[4], [], []).IsSymmetric()); // non-square, even when empty
        Assert.False(new CsrMatrix(2, 2, [0, 1, 1], [1], [1f]).IsSymmetric()); // (0,1) without (1,0)
        Assert.False(new CsrMatrix(2, 2, [0, 1, 2], [1, 0], [1f, 2f]).IsSymmetric()); // same pattern, other value
        float oneUlpMore = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(0.3f) + 1);
        Assert.False(new CsrMatrix(2, 2, [0, 1, 2], [1, 0], [0.3f, oneUlpMore]).IsSymmetric()); // one ulp apart
        CsrMatrix random = RandomCsr(30, 30, seed: 8);
        Assert.False(random.IsSymmetric());
    }
}
