// Builds a CsrMatrix row by row straight into its final storage: a graph whose entries do not
// fit in arrays (2³¹ and more) is written once, checked as it arrives, and never copied.
namespace Stair.Kernels;

/// <summary>
/// Builds a <see cref="CsrMatrix"/> row by row into its final storage, for graphs too large to hold
/// twice (past 2³¹ stored entries the entries go to native memory). Each row is checked as it is
/// appended (columns in range, values finite), so <see cref="Build"/> costs no second pass and no copy.
/// </summary>
/// <remarks>Not thread-safe: one thread appends the rows in order.</remarks>
public sealed class CsrBuilder
{
    private readonly long[] _rowOffsets;
    private EntryBuffer<int>? _columns;
    private EntryBuffer<float>? _values;
    private int _row;
    private long _filled;

    /// <summary>Prepares storage for a <paramref name="rows"/> × <paramref name="columns"/> matrix of exactly <paramref name="nonZeros"/> entries.</summary>
    /// <param name="rows">Number of rows (≥ 0).</param>
    /// <param name="columns">Number of columns (≥ 0).</param>
    /// <param name="nonZeros">Stored entries the rows will hold in all (≥ 0; may exceed 2³¹ − 1).</param>
    /// <exception cref="OutOfMemoryException">The entries' storage cannot be allocated.</exception>
    public CsrBuilder(int rows, int columns, long nonZeros)
        : this(rows, columns, nonZeros, native: false)
    {
    }

    internal CsrBuilder(int rows, int columns, long nonZeros, bool native)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(nonZeros);
        Rows = rows;
        Columns = columns;
        NonZeros = nonZeros;
        _rowOffsets = new long[rows + 1L];
        _columns = EntryBuffer<int>.Allocate(nonZeros, native);
        _values = EntryBuffer<float>.Allocate(nonZeros, native);
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns.</summary>
    public int Columns { get; }

    /// <summary>Stored entries of the finished matrix.</summary>
    public long NonZeros { get; }

    /// <summary>Rows appended so far.</summary>
    public int RowsAppended => _row;

    /// <summary>Appends the next row (its entries in storage order).</summary>
    /// <param name="columnIndices">The row's column indices, each in [0, <see cref="Columns"/>).</param>
    /// <param name="values">The row's values, finite; same length as <paramref name="columnIndices"/>.</param>
    /// <exception cref="ArgumentException">A column is out of range or a value not finite (the message names the row and position);
    /// the lengths differ; the row would pass the declared <see cref="NonZeros"/>. Nothing is appended then.</exception>
    /// <exception cref="InvalidOperationException">All rows were appended already, or the matrix was built.</exception>
    public void AppendRow(ReadOnlySpan<int> columnIndices, ReadOnlySpan<float> values)
    {
        if (_columns is null || _values is null)
        {
            throw new InvalidOperationException("The matrix was built already; a builder makes one matrix.");
        }
        if (_row == Rows)
        {
            throw new InvalidOperationException($"All {Rows} rows were appended already.");
        }
        if (columnIndices.Length != values.Length)
        {
            throw new ArgumentException($"Row {_row}: column indices ({columnIndices.Length}) and values ({values.Length}) must have the same length.", nameof(values));
        }
        if (columnIndices.Length > NonZeros - _filled)
        {
            throw new ArgumentException($"Row {_row}'s {columnIndices.Length} entries would pass the {NonZeros:N0} declared ({_filled:N0} filled).", nameof(columnIndices));
        }
        for (int k = 0; k < columnIndices.Length; k++)
        {
            if ((uint)columnIndices[k] >= (uint)Columns)
            {
                throw new ArgumentException($"Row {_row}: column index at position {k} is {columnIndices[k]}, outside [0, {Columns}).", nameof(columnIndices));
            }
            if (!float.IsFinite(values[k]))
            {
                throw new ArgumentException($"Row {_row}: value at position {k} is {values[k]}; CSR values must be finite.", nameof(values));
            }
        }
        columnIndices.CopyTo(_columns.Slice(_filled, columnIndices.Length));
        values.CopyTo(_values.Slice(_filled, values.Length));
        _filled += columnIndices.Length;
        _rowOffsets[++_row] = _filled;
    }

    /// <summary>The finished matrix; the builder cannot be used after it.</summary>
    /// <exception cref="InvalidOperationException">Rows are missing, or they hold fewer entries than declared.</exception>
    public CsrMatrix Build()
    {
        if (_columns is null || _values is null)
        {
            throw new InvalidOperationException("The matrix was built already; a builder makes one matrix.");
        }
        if (_row != Rows)
        {
            throw new InvalidOperationException($"{_row} of {Rows} rows were appended; append every row before building.");
        }
        if (_filled != NonZeros)
        {
            throw new InvalidOperationException($"The rows hold {_filled:N0} entries, {NonZeros:N0} were declared.");
        }
        var matrix = new CsrMatrix(Rows, Columns, _rowOffsets, _columns, _values, trusted: true);
        _columns = null;
        _values = null;
        return matrix;
    }
}
