// Builders for the graphs STAIR propagates over: the symmetric-normalized user–item
// adjacency Ã, a general edge list (coalesce → symmetrize → normalize), and R_left.
// Degrees and normalized values are computed in float64 and rounded once to float32.
namespace Stair.Kernels;

/// <summary>How a graph's edge weights are normalized by node degree.</summary>
public enum GraphNormalization
{
    /// <summary>Weights are kept as they are.</summary>
    None,

    /// <summary>D_r^{-1/2} W D_c^{-1/2} (row sums D_r, column sums D_c); for a symmetric W this is D^{-1/2} W D^{-1/2}.</summary>
    Symmetric,

    /// <summary>D_r^{-1} W: each row averages (sums to 1 unless empty).</summary>
    Left,

    /// <summary>W D_c^{-1}: each column sums to 1 unless empty.</summary>
    Right,
}

/// <summary>Builds validated <see cref="CsrMatrix"/> graphs from interactions and edge lists.</summary>
/// <remarks>
/// Every builder produces rows sorted by column with no duplicate columns. Rows and columns of
/// degree zero stay empty (a node with no edges keeps an all-zero row; nothing divides by zero).
/// </remarks>
public static class GraphBuilder
{
    /// <summary>
    /// The symmetric-normalized user–item adjacency Ã = D^{-1/2} [[0, R], [Rᵀ, 0]] D^{-1/2}
    /// (kernels.md, KnnGraph): N = users + items nodes, users first (item i is node users + i),
    /// duplicate interactions collapse to one edge.
    /// </summary>
    /// <param name="users">Number of users U (≥ 0).</param>
    /// <param name="items">Number of items I (≥ 0).</param>
    /// <param name="userIds">User of each interaction, in [0, U).</param>
    /// <param name="itemIds">Item of each interaction, in [0, I); same length as <paramref name="userIds"/>.</param>
    public static CsrMatrix UserItemAdjacency(int users, int items, ReadOnlySpan<int> userIds, ReadOnlySpan<int> itemIds)
    {
        ValidateInteractions(users, items, userIds, itemIds);
        checked
        {
            _ = users + items;
        }
        (int[] rPtr, int[] rCols) = BinaryPattern(users, items, userIds, itemIds);
        (int[] tPtr, int[] tCols) = TransposePattern(users, items, rPtr, rCols);

        int n = users + items;
        // Ã holds every distinct interaction twice: past 2³¹ entries (10⁹ interactions) its row offsets
        // are 64-bit and its entries native memory (CsrMatrix).
        long nnz = 2L * rCols.Length;
        var rowOffsets = new long[n + 1L];
        var cols = EntryBuffer<int>.Allocate(nnz);
        var vals = EntryBuffer<float>.Allocate(nnz);
        long pos = 0;
        for (int u = 0; u < users; u++)
        {
            double du = rPtr[u + 1] - rPtr[u];
            Span<int> rowColumns = cols.Slice(pos, rPtr[u + 1] - rPtr[u]);
            Span<float> rowValues = vals.Slice(pos, rowColumns.Length);
            for (int k = rPtr[u], e = 0; k < rPtr[u + 1]; k++, e++)
            {
                int i = rCols[k];
                double di = tPtr[i + 1] - tPtr[i];
                rowColumns[e] = users + i;
                rowValues[e] = (float)(1.0 / Math.Sqrt(du * di));
            }
            pos += rowColumns.Length;
            rowOffsets[u + 1] = pos;
        }
        for (int i = 0; i < items; i++)
        {
            double di = tPtr[i + 1] - tPtr[i];
            Span<int> rowColumns = cols.Slice(pos, tPtr[i + 1] - tPtr[i]);
            Span<float> rowValues = vals.Slice(pos, rowColumns.Length);
            for (int k = tPtr[i], e = 0; k < tPtr[i + 1]; k++, e++)
            {
                int u = tCols[k];
                double du = rPtr[u + 1] - rPtr[u];
                rowColumns[e] = u;
                rowValues[e] = (float)(1.0 / Math.Sqrt(du * di));
            }
            pos += rowColumns.Length;
            rowOffsets[users + i + 1] = pos;
        }
        return new CsrMatrix(n, n, rowOffsets, cols, vals, trusted: true);
    }

    /// <summary>
    /// The left-normalized interaction matrix R_left = D_u^{-1} R (U × I): each user's row
    /// averages over their distinct items; a user with no interactions has an empty row.
    /// </summary>
    /// <param name="users">Number of users U (≥ 0).</param>
    /// <param name="items">Number of items I (≥ 0).</param>
    /// <param name="userIds">User of each interaction, in [0, U).</param>
    /// <param name="itemIds">Item of each interaction, in [0, I); same length as <paramref name="userIds"/>.</param>
    public static CsrMatrix LeftNormalizedInteractions(int users, int items, ReadOnlySpan<int> userIds, ReadOnlySpan<int> itemIds)
    {
        ValidateInteractions(users, items, userIds, itemIds);
        (int[] rPtr, int[] rCols) = BinaryPattern(users, items, userIds, itemIds);
        var vals = new float[rCols.Length];
        for (int u = 0; u < users; u++)
        {
            int deg = rPtr[u + 1] - rPtr[u];
            float w = deg == 0 ? 0f : (float)(1.0 / deg);
            vals.AsSpan(rPtr[u], deg).Fill(w);
        }
        return new CsrMatrix(users, items, rPtr, rCols, vals, trusted: true);
    }

    /// <summary>
    /// A general graph from an edge list: duplicate edges are coalesced by summing their weights
    /// (in input order), then optionally symmetrized by W_ij = max(w_ij, w_ji), then normalized.
    /// </summary>
    /// <param name="rows">Number of rows (source nodes).</param>
    /// <param name="columns">Number of columns (target nodes); must equal <paramref name="rows"/> when symmetrizing.</param>
    /// <param name="sources">Row of each edge, in [0, rows).</param>
    /// <param name="targets">Column of each edge, in [0, columns).</param>
    /// <param name="weights">Weight of each edge (finite), or an empty span for weight 1 on every edge.</param>
    /// <param name="symmetrize">Make the graph undirected by taking the larger weight of each edge pair (a missing
    /// direction counts as 0, so the weights must then be non-negative).</param>
    /// <param name="normalization">Degree normalization applied last.</param>
    public static CsrMatrix FromEdges(int rows, int columns, ReadOnlySpan<int> sources, ReadOnlySpan<int> targets,
        ReadOnlySpan<float> weights, bool symmetrize, GraphNormalization normalization)
    {
        if (rows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "Row count must be non-negative.");
        }
        if (columns < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "Column count must be non-negative.");
        }
        if (symmetrize && rows != columns)
        {
            throw new ArgumentException($"Symmetrizing needs a square graph, got {rows} × {columns}.", nameof(symmetrize));
        }
        if (!Enum.IsDefined(normalization))
        {
            throw new ArgumentOutOfRangeException(nameof(normalization), normalization, "Unknown normalization.");
        }
        if (sources.Length != targets.Length)
        {
            throw new ArgumentException($"Sources ({sources.Length}) and targets ({targets.Length}) must have the same length.", nameof(targets));
        }
        if (!weights.IsEmpty && weights.Length != sources.Length)
        {
            throw new ArgumentException($"Weights ({weights.Length}) must be empty or match the edge count ({sources.Length}).", nameof(weights));
        }
        CheckRange(sources, rows, nameof(sources));
        CheckRange(targets, columns, nameof(targets));
        for (int e = 0; e < weights.Length; e++)
        {
            if (!float.IsFinite(weights[e]))
            {
                throw new ArgumentException($"Weight at index {e} is {weights[e]}; weights must be finite.", nameof(weights));
            }
            if (symmetrize && weights[e] < 0)
            {
                throw new ArgumentException($"Weight at index {e} is {weights[e]}; symmetrizing by max needs non-negative weights (a missing direction counts as 0).", nameof(weights));
            }
        }

        // Coalesce in float64: group edges by row (counting sort keeps input order), then sort
        // each row by (column, input position) so duplicate sums are taken in input order.
        int m = sources.Length;
        var counts = new int[rows + 1];
        foreach (int s in sources)
        {
            counts[s + 1]++;
        }
        for (int r = 0; r < rows; r++)
        {
            counts[r + 1] += counts[r];
        }
        var cursor = (int[])counts.Clone();
        var keys = new long[m];
        var w = new double[m];
        for (int e = 0; e < m; e++)
        {
            int dst = cursor[sources[e]]++;
            keys[dst] = ((long)targets[e] << 32) | (uint)e;
            w[dst] = weights.IsEmpty ? 1.0 : weights[e];
        }
        var rowPtr = new int[rows + 1];
        var colList = new List<int>(m);
        var valList = new List<double>(m);
        for (int r = 0; r < rows; r++)
        {
            int start = counts[r], end = counts[r + 1];
            Array.Sort(keys, w, start, end - start);
            for (int k = start; k < end; k++)
            {
                int c = (int)(keys[k] >> 32);
                if (colList.Count > rowPtr[r] && colList[^1] == c)
                {
                    valList[^1] += w[k];
                }
                else
                {
                    colList.Add(c);
                    valList.Add(w[k]);
                }
            }
            rowPtr[r + 1] = colList.Count;
        }
        int[] cols = colList.ToArray();
        double[] vals = valList.ToArray();

        if (symmetrize)
        {
            (rowPtr, cols, vals) = SymmetrizeMax(rows, rowPtr, cols, vals);
        }
        Normalize(rows, columns, rowPtr, cols, vals, normalization);
        var fvals = new float[vals.Length];
        for (int k = 0; k < vals.Length; k++)
        {
            fvals[k] = (float)vals[k];
            if (!float.IsFinite(fvals[k]))
            {
                throw new ArgumentException($"The coalesced weight of edge ({RowOf(rowPtr, k)}, {cols[k]}) is {vals[k]:G6}, outside the float32 range.", nameof(weights));
            }
        }
        return new CsrMatrix(rows, columns, rowPtr, cols, fvals, trusted: true);
    }

    // Only on the error path, so a plain scan is fine.
    private static int RowOf(int[] rowPointers, int entry)
    {
        int r = 0;
        while (rowPointers[r + 1] <= entry)
        {
            r++;
        }
        return r;
    }

    // W ∪ Wᵀ with max on shared entries; rows stay sorted because both inputs are sorted.
    private static (int[], int[], double[]) SymmetrizeMax(int n, int[] ptr, int[] cols, double[] vals)
    {
        var tCounts = new int[n + 1];
        foreach (int c in cols)
        {
            tCounts[c + 1]++;
        }
        for (int i = 0; i < n; i++)
        {
            tCounts[i + 1] += tCounts[i];
        }
        var tCursor = (int[])tCounts.Clone();
        var tCols = new int[cols.Length];
        var tVals = new double[cols.Length];
        for (int r = 0; r < n; r++)
        {
            for (int k = ptr[r]; k < ptr[r + 1]; k++)
            {
                int dst = tCursor[cols[k]]++;
                tCols[dst] = r;
                tVals[dst] = vals[k];
            }
        }
        var outPtr = new int[n + 1];
        int capacity = (int)Math.Min(2L * cols.Length, Array.MaxLength);
        var outCols = new List<int>(capacity);
        var outVals = new List<double>(capacity);
        for (int r = 0; r < n; r++)
        {
            int a = ptr[r], aEnd = ptr[r + 1], b = tCounts[r], bEnd = tCounts[r + 1];
            if ((long)outCols.Count + (aEnd - a) + (bEnd - b) > Array.MaxLength)
            {
                throw new NotSupportedException(
                    $"Symmetrized, the edge list passes {Array.MaxLength:N0} distinct edges at row {r}: FromEdges builds graphs up to that size. " +
                    "Build larger graphs with GraphBuilder.UserItemAdjacency or row by row with CsrBuilder (64-bit row offsets).");
            }
            while (a < aEnd || b < bEnd)
            {
                if (b >= bEnd || (a < aEnd && cols[a] < tCols[b]))
                {
                    outCols.Add(cols[a]);
                    outVals.Add(vals[a]);
                    a++;
                }
                else if (a >= aEnd || tCols[b] < cols[a])
                {
                    outCols.Add(tCols[b]);
                    outVals.Add(tVals[b]);
                    b++;
                }
                else
                {
                    outCols.Add(cols[a]);
                    outVals.Add(Math.Max(vals[a], tVals[b]));
                    a++;
                    b++;
                }
            }
            outPtr[r + 1] = outCols.Count;
        }
        return (outPtr, outCols.ToArray(), outVals.ToArray());
    }

    private static void Normalize(int rows, int columns, int[] ptr, int[] cols, double[] vals, GraphNormalization normalization)
    {
        if (normalization == GraphNormalization.None)
        {
            return;
        }
        var rowSum = new double[rows];
        var colSum = new double[columns];
        for (int r = 0; r < rows; r++)
        {
            for (int k = ptr[r]; k < ptr[r + 1]; k++)
            {
                rowSum[r] += vals[k];
                colSum[cols[k]] += vals[k];
            }
        }
        for (int r = 0; r < rows; r++)
        {
            for (int k = ptr[r]; k < ptr[r + 1]; k++)
            {
                double dr = rowSum[r], dc = colSum[cols[k]];
                double scale = normalization switch
                {
                    GraphNormalization.Symmetric => dr > 0 && dc > 0 ? 1.0 / Math.Sqrt(dr * dc) : 0.0,
                    GraphNormalization.Left => dr != 0 ? 1.0 / dr : 0.0,
                    _ => dc != 0 ? 1.0 / dc : 0.0,
                };
                vals[k] *= scale;
            }
        }
    }

    private static void ValidateInteractions(int users, int items, ReadOnlySpan<int> userIds, ReadOnlySpan<int> itemIds)
    {
        if (users < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(users), users, "User count must be non-negative.");
        }
        if (items < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(items), items, "Item count must be non-negative.");
        }
        if (userIds.Length != itemIds.Length)
        {
            throw new ArgumentException($"User ids ({userIds.Length}) and item ids ({itemIds.Length}) must have the same length.", nameof(itemIds));
        }
        CheckRange(userIds, users, nameof(userIds));
        CheckRange(itemIds, items, nameof(itemIds));
    }

    private static void CheckRange(ReadOnlySpan<int> ids, int count, string name)
    {
        for (int k = 0; k < ids.Length; k++)
        {
            if ((uint)ids[k] >= (uint)count)
            {
                throw new ArgumentException($"Index {ids[k]} at position {k} is outside [0, {count}).", name);
            }
        }
    }

    // Distinct (user, item) pairs as a sorted CSR pattern.
    private static (int[] Ptr, int[] Cols) BinaryPattern(int rows, int columns, ReadOnlySpan<int> r, ReadOnlySpan<int> c)
    {
        var counts = new int[rows + 1];
        foreach (int x in r)
        {
            counts[x + 1]++;
        }
        for (int i = 0; i < rows; i++)
        {
            counts[i + 1] += counts[i];
        }
        var cursor = (int[])counts.Clone();
        var cols = new int[r.Length];
        for (int e = 0; e < r.Length; e++)
        {
            cols[cursor[r[e]]++] = c[e];
        }
        var ptr = new int[rows + 1];
        int pos = 0;
        for (int i = 0; i < rows; i++)
        {
            int start = counts[i], end = counts[i + 1];
            Array.Sort(cols, start, end - start);
            for (int k = start; k < end; k++)
            {
                if (k == start || cols[k] != cols[k - 1])
                {
                    cols[pos++] = cols[k];
                }
            }
            ptr[i + 1] = pos;
        }
        Array.Resize(ref cols, pos);
        _ = columns;
        return (ptr, cols);
    }

    private static (int[] Ptr, int[] Cols) TransposePattern(int rows, int columns, int[] ptr, int[] cols)
    {
        var counts = new int[columns + 1];
        foreach (int c in cols)
        {
            counts[c + 1]++;
        }
        for (int i = 0; i < columns; i++)
        {
            counts[i + 1] += counts[i];
        }
        var cursor = (int[])counts.Clone();
        var tCols = new int[cols.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int k = ptr[r]; k < ptr[r + 1]; k++)
            {
                tCols[cursor[cols[k]]++] = r;
            }
        }
        return (counts, tCols);
    }
}
