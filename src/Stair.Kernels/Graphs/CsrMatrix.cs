// An immutable compressed-sparse-row matrix: float32 values, int32 column indices (nodes stay
// below 2³¹) and 64-bit row offsets, so a graph may hold more than 2³¹ stored entries. It is
// validated once at construction so that every kernel after it can trust it.
namespace Stair.Kernels;

/// <summary>
/// An immutable sparse matrix in compressed sparse row (CSR) form: <c>float</c> values, <c>int</c>
/// column indices and 64-bit row offsets, the arrays scipy's <c>csr_matrix</c> holds (<c>data</c>,
/// <c>indices</c>, <c>indptr</c>).
/// </summary>
/// <remarks>
/// <para>The matrix is validated once, when it is built: row offsets start at 0, never decrease and
/// end at the number of stored entries; no row holds more than <see cref="int.MaxValue"/> entries;
/// every column index lies in [0, <see cref="Columns"/>); every value is finite. Column indices inside
/// a row need not be sorted and may repeat (kernels sum them in storage order), but the builders in
/// <see cref="GraphBuilder"/> always produce sorted, duplicate-free rows.</para>
/// <para>Past 2³¹ − 1 stored entries (<see cref="NonZeros"/> is 64-bit) the entries live in native
/// memory, freed when the matrix is collected, and the whole-matrix spans <see cref="RowPointers"/>,
/// <see cref="ColumnIndices"/> and <see cref="Values"/> throw <see cref="NotSupportedException"/>: read such
/// a matrix through <see cref="RowOffsets"/>, <see cref="RowColumns"/> and <see cref="RowValues"/> (spans
/// that stay valid while the matrix is reachable). Build one with <see cref="CsrBuilder"/>,
/// <see cref="GraphBuilder.UserItemAdjacency"/> or <c>ScipyNpz.ReadCsr</c>.</para>
/// </remarks>
public sealed unsafe class CsrMatrix
{
    private readonly long[] _rowOffsets;
    private readonly EntryBuffer<int> _columnIndices;
    private readonly EntryBuffer<float> _values;
    private int[]? _rowPointers32;

    /// <summary>
    /// Builds a CSR matrix from copies of the given arrays (32-bit row pointers), validating them first.
    /// </summary>
    /// <param name="rows">Number of rows (≥ 0).</param>
    /// <param name="columns">Number of columns (≥ 0).</param>
    /// <param name="rowPointers">Row pointers, length <paramref name="rows"/> + 1.</param>
    /// <param name="columnIndices">Column index of each stored entry.</param>
    /// <param name="values">Value of each stored entry; same length as <paramref name="columnIndices"/>.</param>
    /// <exception cref="ArgumentException">The arrays do not describe a valid CSR matrix; the
    /// message names the argument and the first offending index.</exception>
    public CsrMatrix(int rows, int columns, ReadOnlySpan<int> rowPointers, ReadOnlySpan<int> columnIndices, ReadOnlySpan<float> values)
        : this(rows, columns, Widen(rowPointers), EntryBuffer<int>.Wrap(columnIndices.ToArray()), EntryBuffer<float>.Wrap(values.ToArray()), trusted: false)
    {
    }

    /// <summary>
    /// Builds a CSR matrix from copies of the given arrays (64-bit row offsets, as scipy writes them past
    /// 2³¹ entries), validating them first.
    /// </summary>
    /// <param name="rows">Number of rows (≥ 0).</param>
    /// <param name="columns">Number of columns (≥ 0).</param>
    /// <param name="rowOffsets">Row offsets, length <paramref name="rows"/> + 1.</param>
    /// <param name="columnIndices">Column index of each stored entry.</param>
    /// <param name="values">Value of each stored entry; same length as <paramref name="columnIndices"/>.</param>
    /// <exception cref="ArgumentException">The arrays do not describe a valid CSR matrix; the
    /// message names the argument and the first offending index.</exception>
    public CsrMatrix(int rows, int columns, ReadOnlySpan<long> rowOffsets, ReadOnlySpan<int> columnIndices, ReadOnlySpan<float> values)
        : this(rows, columns, rowOffsets.ToArray(), EntryBuffer<int>.Wrap(columnIndices.ToArray()), EntryBuffer<float>.Wrap(values.ToArray()), trusted: false,
            nameof(rowOffsets))
    {
    }

    /// <summary>Takes ownership of arrays already known to be valid (builders, transposes).</summary>
    internal CsrMatrix(int rows, int columns, int[] rowPointers, int[] columnIndices, float[] values, bool trusted)
        : this(rows, columns, Widen(rowPointers), EntryBuffer<int>.Wrap(columnIndices), EntryBuffer<float>.Wrap(values), trusted)
    {
    }

    /// <summary>Takes ownership of the offsets and entry buffers; validates them unless trusted (always in debug builds).</summary>
    internal CsrMatrix(int rows, int columns, long[] rowOffsets, EntryBuffer<int> columnIndices, EntryBuffer<float> values, bool trusted,
        string offsetsName = "rowPointers")
    {
#if DEBUG
        trusted = false;
#endif
        if (!trusted)
        {
            Validate(rows, columns, rowOffsets, columnIndices, values, offsetsName);
        }
        Rows = rows;
        Columns = columns;
        _rowOffsets = rowOffsets;
        _columnIndices = columnIndices;
        _values = values;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns.</summary>
    public int Columns { get; }

    /// <summary>Number of stored entries (may exceed 2³¹ − 1).</summary>
    public long NonZeros => _values.Length;

    /// <summary>Row offsets (length <see cref="Rows"/> + 1): row r's entries are [RowOffsets[r], RowOffsets[r+1]).</summary>
    public ReadOnlySpan<long> RowOffsets => _rowOffsets;

    /// <summary>
    /// The row offsets as 32-bit row pointers (length <see cref="Rows"/> + 1), scipy's int32 <c>indptr</c>;
    /// made on first use.
    /// </summary>
    /// <exception cref="NotSupportedException">The matrix stores more than 2³¹ − 1 entries; use <see cref="RowOffsets"/>.</exception>
    public ReadOnlySpan<int> RowPointers
    {
        get
        {
            if (_rowPointers32 is { } cached)
            {
                return cached;
            }
            if (NonZeros > int.MaxValue)
            {
                throw new NotSupportedException($"The matrix stores {NonZeros:N0} entries, past what 32-bit row pointers address; use RowOffsets.");
            }
            var narrow = new int[_rowOffsets.Length];
            for (int r = 0; r < narrow.Length; r++)
            {
                narrow[r] = (int)_rowOffsets[r];
            }
            return Interlocked.CompareExchange(ref _rowPointers32, narrow, null) ?? narrow;
        }
    }

    /// <summary>Column index of each stored entry.</summary>
    /// <exception cref="NotSupportedException">The matrix stores more entries than one span shows; use <see cref="RowColumns"/>.</exception>
    public ReadOnlySpan<int> ColumnIndices => _columnIndices.Span;

    /// <summary>Value of each stored entry.</summary>
    /// <exception cref="NotSupportedException">The matrix stores more entries than one span shows; use <see cref="RowValues"/>.</exception>
    public ReadOnlySpan<float> Values => _values.Span;

    /// <summary>True when the matrix is square.</summary>
    public bool IsSquare => Rows == Columns;

    internal long[] RowOffsetArray => _rowOffsets;
    internal EntryBuffer<int> ColumnStorage => _columnIndices;
    internal EntryBuffer<float> ValueStorage => _values;

    /// <summary>True when the entries live in native memory (more than an array holds, or forced by a test).</summary>
    internal bool IsNativeStorage => _columnIndices.IsNative;

    /// <summary>Number of stored entries in row <paramref name="row"/>.</summary>
    public int RowLength(int row)
    {
        CheckRow(row);
        return (int)(_rowOffsets[row + 1] - _rowOffsets[row]);
    }

    /// <summary>The column indices of row <paramref name="row"/>'s entries, in storage order.</summary>
    public ReadOnlySpan<int> RowColumns(int row)
    {
        CheckRow(row);
        return _columnIndices.Slice(_rowOffsets[row], (int)(_rowOffsets[row + 1] - _rowOffsets[row]));
    }

    /// <summary>The values of row <paramref name="row"/>'s entries, in storage order.</summary>
    public ReadOnlySpan<float> RowValues(int row)
    {
        CheckRow(row);
        return _values.Slice(_rowOffsets[row], (int)(_rowOffsets[row + 1] - _rowOffsets[row]));
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must lie in [0, {Rows}).");
        }
    }

    /// <summary>
    /// Returns the transpose as a new CSR matrix. Entries of each transposed row come out in
    /// increasing order of their original row, so the result is deterministic.
    /// </summary>
    public CsrMatrix Transpose()
    {
        long nnz = NonZeros;
        var offsets = new long[Columns + 1];
        var cols = EntryBuffer<int>.Allocate(nnz, IsNativeStorage);
        var vals = EntryBuffer<float>.Allocate(nnz, IsNativeStorage);
        fixed (int* sourceColumns = &_columnIndices.Reference)
        fixed (float* sourceValues = &_values.Reference)
        fixed (int* targetColumns = &cols.Reference)
        fixed (float* targetValues = &vals.Reference)
        {
            for (long k = 0; k < nnz; k++)
            {
                offsets[sourceColumns[k] + 1]++;
            }
            for (int c = 0; c < Columns; c++)
            {
                offsets[c + 1] += offsets[c];
            }
            // offsets[c] is the insertion cursor of transposed row c: it ends at row c's end, which is row c + 1's
            // start, and shifting the array by one restores the starts. No second array of Columns + 1 cursors:
            // a CSC file that declares hundreds of millions of rows (found by fuzzing) needs half the memory.
            for (int r = 0; r < Rows; r++)
            {
                for (long k = _rowOffsets[r]; k < _rowOffsets[r + 1]; k++)
                {
                    long dst = offsets[sourceColumns[k]]++;
                    targetColumns[dst] = r;
                    targetValues[dst] = sourceValues[k];
                }
            }
            for (int c = Columns; c > 0; c--)
            {
                offsets[c] = offsets[c - 1];
            }
            offsets[0] = 0;
        }
        GC.KeepAlive(this);
        return new CsrMatrix(Columns, Rows, offsets, cols, vals, trusted: true);
    }

    /// <summary>
    /// True when the matrix equals its transpose exactly (same pattern and numerically equal values, +0 equal to −0,
    /// comparing rows with sorted columns).
    /// </summary>
    /// <remarks>A matrix whose rows are sorted without repeated columns (every builder's) is checked in place,
    /// without building its transpose; others are compared with their transpose.</remarks>
    public bool IsSymmetric()
    {
        if (!IsSquare)
        {
            return false;
        }
        if (HasStrictlySortedRows())
        {
            return IsSymmetricInPlace();
        }
        CsrMatrix t = Transpose();
        CsrMatrix self = SortedRows();
        return self._rowOffsets.AsSpan().SequenceEqual(t._rowOffsets)
            && SameEntries(self, t);
    }

    // Rows sorted by column with no column repeated: then Aᵀ's row c lists the rows r with an entry
    // (r, c) in increasing r, and A is symmetric exactly when walking the rows in order meets, for
    // each column c, the entries of row c one after the other: the entry (r, c, v) must be row c's
    // next unmatched entry, (c, r, v). One cursor per row, no transpose.
    private bool IsSymmetricInPlace()
    {
        var cursor = new long[Rows];
        Array.Copy(_rowOffsets, cursor, Rows);
        fixed (int* columns = &_columnIndices.Reference)
        fixed (float* values = &_values.Reference)
        {
            for (int r = 0; r < Rows; r++)
            {
                for (long k = _rowOffsets[r]; k < _rowOffsets[r + 1]; k++)
                {
                    int c = columns[k];
                    long m = cursor[c];
                    if (m == _rowOffsets[c + 1] || columns[m] != r || values[m] != values[k])
                    {
                        return false;
                    }
                    cursor[c] = m + 1;
                }
            }
            GC.KeepAlive(this);
        }
        for (int r = 0; r < Rows; r++)
        {
            if (cursor[r] != _rowOffsets[r + 1])
            {
                return false;
            }
        }
        return true;
    }

    private static bool SameEntries(CsrMatrix a, CsrMatrix b)
    {
        long nnz = a.NonZeros;
        if (nnz != b.NonZeros)
        {
            return false;
        }
        fixed (int* ac = &a._columnIndices.Reference)
        fixed (int* bc = &b._columnIndices.Reference)
        fixed (float* av = &a._values.Reference)
        fixed (float* bv = &b._values.Reference)
        {
            for (long k = 0; k < nnz; k++)
            {
                if (ac[k] != bc[k] || av[k] != bv[k])
                {
                    return false;
                }
            }
        }
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        return true;
    }

    // True when every row's columns strictly increase (sorted, no repeats).
    private bool HasStrictlySortedRows()
    {
        fixed (int* columns = &_columnIndices.Reference)
        {
            for (int r = 0; r < Rows; r++)
            {
                for (long k = _rowOffsets[r] + 1; k < _rowOffsets[r + 1]; k++)
                {
                    if (columns[k] <= columns[k - 1])
                    {
                        return false;
                    }
                }
            }
        }
        GC.KeepAlive(this);
        return true;
    }

    /// <summary>The same matrix with the entries of each row sorted by column (stable).</summary>
    internal CsrMatrix SortedRows()
    {
        bool sorted = true;
        fixed (int* columns = &_columnIndices.Reference)
        {
            for (int r = 0; r < Rows && sorted; r++)
            {
                for (long k = _rowOffsets[r] + 1; k < _rowOffsets[r + 1]; k++)
                {
                    if (columns[k] < columns[k - 1])
                    {
                        sorted = false;
                        break;
                    }
                }
            }
        }
        GC.KeepAlive(this);
        // A double transpose sorts every row by column and keeps storage order among equal columns.
        return sorted ? this : Transpose().Transpose();
    }

    /// <summary>The same matrix with its entries in native memory (tests run the storage of a graph past 2³¹ entries on small ones).</summary>
    internal CsrMatrix WithNativeStorage()
    {
        var cols = EntryBuffer<int>.Allocate(NonZeros, native: true);
        var vals = EntryBuffer<float>.Allocate(NonZeros, native: true);
        for (long k = 0; k < NonZeros; k += int.MaxValue)
        {
            int n = (int)Math.Min(int.MaxValue, NonZeros - k);
            _columnIndices.Slice(k, n).CopyTo(cols.Slice(k, n));
            _values.Slice(k, n).CopyTo(vals.Slice(k, n));
        }
        return new CsrMatrix(Rows, Columns, (long[])_rowOffsets.Clone(), cols, vals, trusted: true);
    }

    /// <summary>Dense row-major copy (for tests and small matrices).</summary>
    public float[] ToDense()
    {
        var dense = new float[checked(Rows * Columns)];
        for (int r = 0; r < Rows; r++)
        {
            ReadOnlySpan<int> columns = RowColumns(r);
            ReadOnlySpan<float> values = RowValues(r);
            for (int k = 0; k < columns.Length; k++)
            {
                dense[(long)r * Columns + columns[k]] += values[k];
            }
        }
        GC.KeepAlive(this);
        return dense;
    }

    private static long[] Widen(ReadOnlySpan<int> rowPointers)
    {
        var offsets = new long[rowPointers.Length];
        for (int r = 0; r < offsets.Length; r++)
        {
            offsets[r] = rowPointers[r];
        }
        return offsets;
    }

    private static void Validate(int rows, int columns, long[] rowOffsets, EntryBuffer<int> columnIndices, EntryBuffer<float> values, string offsetsName)
    {
        if (rows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "Row count must be non-negative.");
        }
        if (columns < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "Column count must be non-negative.");
        }
        if (rowOffsets.Length != rows + 1L)
        {
            throw new ArgumentException($"Row pointers must have rows + 1 = {rows + 1L} entries, got {rowOffsets.Length}.", offsetsName);
        }
        if (columnIndices.Length != values.Length)
        {
            throw new ArgumentException($"Column indices ({columnIndices.Length}) and values ({values.Length}) must have the same length.", nameof(values));
        }
        if (rowOffsets[0] != 0)
        {
            throw new ArgumentException($"Row pointers must start at 0, got {rowOffsets[0]} at index 0.", offsetsName);
        }
        for (int r = 0; r < rows; r++)
        {
            long length = rowOffsets[r + 1] - rowOffsets[r];
            if (length < 0)
            {
                throw new ArgumentException($"Row pointers must not decrease: index {r + 1} holds {rowOffsets[r + 1]} after {rowOffsets[r]}.", offsetsName);
            }
            if (length > int.MaxValue)
            {
                throw new ArgumentException($"Row {r} holds {length:N0} entries; a row holds at most {int.MaxValue:N0}.", offsetsName);
            }
        }
        if (rowOffsets[rows] != values.Length)
        {
            throw new ArgumentException($"The last row pointer (index {rows}) must equal the number of stored entries {values.Length}, got {rowOffsets[rows]}.", offsetsName);
        }
        long nnz = values.Length;
        fixed (int* cols = &columnIndices.Reference)
        fixed (float* vals = &values.Reference)
        {
            for (long k = 0; k < nnz; k++)
            {
                if ((uint)cols[k] >= (uint)columns)
                {
                    throw new ArgumentException($"Column index at position {k} is {cols[k]}, outside [0, {columns}).", nameof(columnIndices));
                }
            }
            for (long k = 0; k < nnz; k++)
            {
                if (!float.IsFinite(vals[k]))
                {
                    throw new ArgumentException($"Value at position {k} is {vals[k]}; CSR values must be finite.", nameof(values));
                }
            }
        }
        GC.KeepAlive(columnIndices);
        GC.KeepAlive(values);
    }
}
