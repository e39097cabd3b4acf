// An immutable compressed-sparse-row matrix (float32 values, int32 row pointers and
// columns), validated once at construction so that every kernel after it can trust it.
namespace Stair.Kernels;

/// <summary>
/// An immutable sparse matrix in compressed sparse row (CSR) form: <c>float</c> values,
/// <c>int</c> row pointers and column indices, exactly the arrays scipy's <c>csr_matrix</c>
/// holds (<c>indptr</c>, <c>indices</c>, <c>data</c>).
/// </summary>
/// <remarks>
/// The matrix is validated once, when it is built: row pointers start at 0, never
/// decrease and end at the number of stored entries; every column index lies in
/// [0, <see cref="Columns"/>); every value is finite. Column indices inside a row need not be
/// sorted and may repeat (kernels sum them in storage order), but the builders in
/// <see cref="GraphBuilder"/> always produce sorted, duplicate-free rows.
/// </remarks>
public sealed class CsrMatrix
{
    private readonly int[] _rowPointers;
    private readonly int[] _columnIndices;
    private readonly float[] _values;

    /// <summary>
    /// Builds a CSR matrix from copies of the given arrays, validating them first.
    /// </summary>
    /// <param name="rows">Number of rows (≥ 0).</param>
    /// <param name="columns">Number of columns (≥ 0).</param>
    /// <param name="rowPointers">Row pointers, length <paramref name="rows"/> + 1.</param>
    /// <param name="columnIndices">Column index of each stored entry.</param>
    /// <param name="values">Value of each stored entry; same length as <paramref name="columnIndices"/>.</param>
    /// <exception cref="ArgumentException">The arrays do not describe a valid CSR matrix; the
    /// message names the argument and the first offending index.</exception>
    public CsrMatrix(int rows, int columns, ReadOnlySpan<int> rowPointers, ReadOnlySpan<int> columnIndices, ReadOnlySpan<float> values)
    {
        Validate(rows, columns, rowPointers, columnIndices, values);
        Rows = rows;
        Columns = columns;
        _rowPointers = rowPointers.ToArray();
        _columnIndices = columnIndices.ToArray();
        _values = values.ToArray();
    }

    /// <summary>Takes ownership of arrays already known to be valid (builders, transposes).</summary>
    internal CsrMatrix(int rows, int columns, int[] rowPointers, int[] columnIndices, float[] values, bool trusted)
    {
        if (!trusted)
        {
            Validate(rows, columns, rowPointers, columnIndices, values);
        }
#if DEBUG
        else
        {
            Validate(rows, columns, rowPointers, columnIndices, values);
        }
#endif
        Rows = rows;
        Columns = columns;
        _rowPointers = rowPointers;
        _columnIndices = columnIndices;
        _values = values;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns.</summary>
    public int Columns { get; }

    /// <summary>Number of stored entries.</summary>
    public int NonZeros => _values.Length;

    /// <summary>Row pointers (length <see cref="Rows"/> + 1): row r's entries are [RowPointers[r], RowPointers[r+1]).</summary>
    public ReadOnlySpan<int> RowPointers => _rowPointers;

    /// <summary>Column index of each stored entry.</summary>
    public ReadOnlySpan<int> ColumnIndices => _columnIndices;

    /// <summary>Value of each stored entry.</summary>
    public ReadOnlySpan<float> Values => _values;

    /// <summary>True when the matrix is square.</summary>
    public bool IsSquare => Rows == Columns;

    internal int[] RowPointerArray => _rowPointers;
    internal int[] ColumnIndexArray => _columnIndices;
    internal float[] ValueArray => _values;

    /// <summary>Number of stored entries in row <paramref name="row"/>.</summary>
    public int RowLength(int row)
    {
        if ((uint)row >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must lie in [0, {Rows}).");
        }
        return _rowPointers[row + 1] - _rowPointers[row];
    }

    /// <summary>
    /// Returns the transpose as a new CSR matrix. Entries of each transposed row come out in
    /// increasing order of their original row, so the result is deterministic.
    /// </summary>
    public CsrMatrix Transpose()
    {
        var counts = new int[Columns + 1];
        foreach (int c in _columnIndices)
        {
            counts[c + 1]++;
        }
        for (int c = 0; c < Columns; c++)
        {
            counts[c + 1] += counts[c];
        }
        var rowPointers = (int[])counts.Clone();
        var next = counts; // reuse as insertion cursor
        var cols = new int[NonZeros];
        var vals = new float[NonZeros];
        for (int r = 0; r < Rows; r++)
        {
            for (int k = _rowPointers[r]; k < _rowPointers[r + 1]; k++)
            {
                int dst = next[_columnIndices[k]]++;
                cols[dst] = r;
                vals[dst] = _values[k];
            }
        }
        return new CsrMatrix(Columns, Rows, rowPointers, cols, vals, trusted: true);
    }

    /// <summary>
    /// True when the matrix equals its transpose exactly (same pattern and numerically equal values, +0 equal to −0,
    /// comparing rows with sorted columns).
    /// </summary>
    public bool IsSymmetric()
    {
        if (!IsSquare)
        {
            return false;
        }
        CsrMatrix t = Transpose();
        CsrMatrix self = SortedRows();
        return self._rowPointers.AsSpan().SequenceEqual(t._rowPointers)
            && self._columnIndices.AsSpan().SequenceEqual(t._columnIndices)
            && self._values.AsSpan().SequenceEqual(t._values);
    }

    /// <summary>The same matrix with the entries of each row sorted by column (stable).</summary>
    internal CsrMatrix SortedRows()
    {
        bool sorted = true;
        for (int r = 0; r < Rows && sorted; r++)
        {
            for (int k = _rowPointers[r] + 1; k < _rowPointers[r + 1]; k++)
            {
                if (_columnIndices[k] < _columnIndices[k - 1])
                {
                    sorted = false;
                    break;
                }
            }
        }
        // A double transpose sorts every row by column and keeps storage order among equal columns.
        return sorted ? this : Transpose().Transpose();
    }

    /// <summary>Dense row-major copy (for tests and small matrices).</summary>
    public float[] ToDense()
    {
        var dense = new float[checked(Rows * Columns)];
        for (int r = 0; r < Rows; r++)
        {
            for (int k = _rowPointers[r]; k < _rowPointers[r + 1]; k++)
            {
                dense[(long)r * Columns + _columnIndices[k]] += _values[k];
            }
        }
        return dense;
    }

    private static void Validate(int rows, int columns, ReadOnlySpan<int> rowPointers, ReadOnlySpan<int> columnIndices, ReadOnlySpan<float> values)
    {
        if (rows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "Row count must be non-negative.");
        }
        if (columns < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "Column count must be non-negative.");
        }
        if (rowPointers.Length != rows + 1)
        {
            throw new ArgumentException($"Row pointers must have rows + 1 = {rows + 1} entries, got {rowPointers.Length}.", nameof(rowPointers));
        }
        if (columnIndices.Length != values.Length)
        {
            throw new ArgumentException($"Column indices ({columnIndices.Length}) and values ({values.Length}) must have the same length.", nameof(values));
        }
        if (rowPointers[0] != 0)
        {
            throw new ArgumentException($"Row pointers must start at 0, got {rowPointers[0]} at index 0.", nameof(rowPointers));
        }
        for (int r = 0; r < rows; r++)
        {
            if (rowPointers[r + 1] < rowPointers[r])
            {
                throw new ArgumentException($"Row pointers must not decrease: index {r + 1} holds {rowPointers[r + 1]} after {rowPointers[r]}.", nameof(rowPointers));
            }
        }
        if (rowPointers[rows] != values.Length)
        {
            throw new ArgumentException($"The last row pointer (index {rows}) must equal the number of stored entries {values.Length}, got {rowPointers[rows]}.", nameof(rowPointers));
        }
        for (int k = 0; k < columnIndices.Length; k++)
        {
            if ((uint)columnIndices[k] >= (uint)columns)
            {
                throw new ArgumentException($"Column index at position {k} is {columnIndices[k]}, outside [0, {columns}).", nameof(columnIndices));
            }
        }
        for (int k = 0; k < values.Length; k++)
        {
            if (!float.IsFinite(values[k]))
            {
                throw new ArgumentException($"Value at position {k} is {values[k]}; CSR values must be finite.", nameof(values));
            }
        }
    }
}
