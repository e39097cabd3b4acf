// A square graph split over the ranks of a communicator: each rank owns a contiguous block of rows
// (balanced by non-zeros), learns at plan time which remote rows its rows read (the halo, grouped by
// owner) and which of its rows each peer reads, and keeps two local products per direction: the
// interior rows (no remote column; computed while the halo is in flight) and the boundary rows.
// Local tables are in "plan order" (interior rows first); columns are renumbered into the rank's
// extended table [own rows in plan order | halo rows by owner, ascending]. Entries keep their order
// within each row, so every output row is the single-process kernel's FMA chain: the same bits.
using Stair.Kernels.Cpu.Propagation;

namespace Stair.Kernels.Distributed;

/// <summary>Where one distributed call's time went on one rank.</summary>
/// <param name="Total">Seconds from the call's start to its end (argument agreement included).</param>
/// <param name="Compute">Seconds in the local products (interior and boundary rows).</param>
/// <param name="Wait">Seconds waiting for the halo after the interior rows were done (exchange not hidden).</param>
/// <param name="Copy">Seconds packing send rows and reordering tables.</param>
/// <param name="BytesSent">Halo bytes this rank sent, all layers.</param>
/// <param name="BytesReceived">Halo bytes this rank received, all layers.</param>
public sealed record DistributedTimings(double Total, double Compute, double Wait, double Copy, long BytesSent, long BytesReceived);

/// <summary>
/// A square sparse matrix (Ã, S̃) partitioned over the ranks of an <see cref="MpiComm"/> for
/// <see cref="DistributedPropagation"/>: every rank holds its block of rows, the plan of its halo
/// exchange and the local products. Built collectively; every rank must build its plan in the same order.
/// </summary>
/// <remarks>
/// Checked when built, on every rank: the ranks' blocks are contiguous and cover the graph, they agree on its
/// size, and (for <see cref="Partition(MpiComm, CsrMatrix, CpuOptions?)"/>) on a hash of the whole graph; any disagreement is one
/// <see cref="MpiException"/> on every rank, never a hang. Not thread-safe: one thread per rank uses a plan.
/// A plan built with a <see cref="ComputeContext"/> runs its local products on that context's device (CPU, OpenCL,
/// CUDA, the ILGPU simulator) and stages the halo through host memory; dispose it to free its device graphs.
/// </remarks>
public sealed class DistributedPlan : IDisposable
{
    private readonly Dictionary<int, Workspace> _workspaces = [];
    private readonly Dictionary<int, DeviceWorkspace> _deviceWorkspaces = [];

    private DistributedPlan(MpiComm comm, int nodes, int rowStart, int rows, Direction forward, Direction transposed, bool symmetric, long hash,
        int[] bounds, CpuOptions options)
    {
        Bounds = bounds;
        Options = options;
        Comm = comm;
        Nodes = nodes;
        RowStart = rowStart;
        LocalRows = rows;
        Forward = forward;
        Transposed = transposed;
        IsSymmetric = symmetric;
        GraphHash = hash;
    }

    /// <summary>The communicator.</summary>
    public MpiComm Comm { get; }

    /// <summary>Rows (= columns) of the whole graph.</summary>
    public int Nodes { get; }

    /// <summary>This rank's first row.</summary>
    public int RowStart { get; }

    /// <summary>This rank's number of rows (may be 0).</summary>
    public int LocalRows { get; }

    /// <summary>True when A equals Aᵀ, so both directions share one halo plan.</summary>
    public bool IsSymmetric { get; }

    /// <summary>The hash every rank agreed on (of the whole graph and the partition).</summary>
    public long GraphHash { get; }

    /// <summary>Remote rows this rank receives per layer (forward direction; <paramref name="transpose"/> for Aᵀ).</summary>
    public int HaloRows(bool transpose = false) => (transpose ? Transposed : Forward).HaloRows;

    /// <summary>Own rows this rank sends per layer, counted once per peer that reads them.</summary>
    public int SentRows(bool transpose = false) => (transpose ? Transposed : Forward).SendRows.Length;

    /// <summary>Own rows that read no remote row (computed while the halo is in flight).</summary>
    public int InteriorRows(bool transpose = false) => (transpose ? Transposed : Forward).InteriorCount;

    /// <summary>Where the last call's time went on this rank (seconds, bytes); updated by every call.</summary>
    public DistributedTimings LastCall { get; internal set; } = new(0, 0, 0, 0, 0, 0);

    internal Direction Forward { get; }

    /// <summary>Rank q owns rows [Bounds[q], Bounds[q + 1]).</summary>
    internal int[] Bounds { get; }

    /// <summary>The SIMD tier and threads of this rank's local products.</summary>
    internal CpuOptions Options { get; }

    /// <summary>The context whose device runs this rank's local products (null: the host, through the CPU kernels on spans).</summary>
    public ComputeContext? Context { get; private init; }

    /// <summary>Frees the device graphs of a plan built with a context (nothing otherwise).</summary>
    public void Dispose()
    {
        foreach (Direction d in Transposed == Forward ? [Forward] : new[] { Forward, Transposed })
        {
            d.InteriorGraph?.Dispose();
            d.BoundaryGraph?.Dispose();
        }
        foreach (DeviceWorkspace w in _deviceWorkspaces.Values)
        {
            w.Dispose();
        }
        _deviceWorkspaces.Clear();
    }

    internal DeviceWorkspace DeviceWorkspaceFor(int width)
    {
        if (!_deviceWorkspaces.TryGetValue(width, out DeviceWorkspace? w))
        {
            w = new DeviceWorkspace(this, Context!, width);
            _deviceWorkspaces[width] = w;
        }
        return w;
    }

    /// <summary>The first row rank <paramref name="rank"/> owns (its block ends where the next rank's starts; <see cref="Nodes"/> after the last).</summary>
    public int RowStartOf(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rank, Comm.Size);
        return Bounds[rank];
    }

    /// <summary>The rank that owns <paramref name="row"/>.</summary>
    public int OwnerOf(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Nodes);
        return Owner(Bounds, row);
    }

    internal static int Owner(int[] bounds, int row)
    {
        int q = Array.BinarySearch(bounds, row);
        q = q >= 0 ? q : ~q - 1;
        while (bounds[q + 1] <= row)
        {
            q++; // past ranks that own no rows
        }
        return q;
    }

    internal Direction Transposed { get; }

    /// <summary>
    /// Splits <paramref name="matrix"/> (held whole by every rank) into contiguous row blocks balanced by
    /// non-zeros (stored entries + 2 per row) and prepares this rank's block. Collective.
    /// </summary>
    /// <param name="comm">The communicator (every rank calls this).</param>
    /// <param name="matrix">The square graph, the same on every rank (checked by hash).</param>
    /// <param name="options">SIMD tier and threads per rank (one thread per rank when ranks share a machine's cores).</param>
    /// <exception cref="MpiException">The ranks do not hold the same graph, or an MPI call failed.</exception>
    public static DistributedPlan Partition(MpiComm comm, CsrMatrix matrix, CpuOptions? options = null)
        => Partition(comm, matrix, options, null);

    /// <summary>
    /// As <see cref="Partition(MpiComm, CsrMatrix, CpuOptions?)"/>, with this rank's local products prepared on
    /// <paramref name="context"/>'s device: the <see cref="DistributedPropagation"/> overloads that take
    /// <see cref="DeviceTable"/>s run there. Each rank may use a different backend; every rank's rows are bitwise
    /// what its backend computes for them on the whole graph in one process.
    /// </summary>
    public static DistributedPlan Partition(MpiComm comm, CsrMatrix matrix, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Partition(comm, matrix, context.CpuOptions, context);
    }

    private static DistributedPlan Partition(MpiComm comm, CsrMatrix matrix, CpuOptions? options, ComputeContext? context)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(matrix);
        string? problem = matrix.IsSquare ? null : $"rank {comm.Rank}: the graph is {matrix.Rows} × {matrix.Columns}; distributed propagation needs a square matrix.";
        long hash = problem is null ? Hash(matrix) : 0;
        Agree(comm, problem, [matrix.Rows, hash], "graph",
            (rank, mine, theirs) => $"rank {rank} holds a {theirs[0]}-node graph with hash {theirs[1]:x16}, this rank a {mine[0]}-node graph with hash {mine[1]:x16}: every rank must pass the same graph.");
        int[] bounds = RowPartition.Split(matrix.RowOffsets, comm.Size); // the CPU pool's cost model: entries + 2 per row
        int start = bounds[comm.Rank], end = bounds[comm.Rank + 1];
        CsrMatrix local = Slice(matrix, start, end);
        bool symmetric = matrix.IsSymmetric();
        CsrMatrix? localTransposed = symmetric ? null : Slice(matrix.Transpose(), start, end);
        return Create(comm, matrix.Rows, start, local, localTransposed, options, hash, context);
    }

    /// <summary>
    /// Prepares this rank's block when each rank holds only its own rows: <paramref name="localRows"/> are
    /// rows [rowStart, rowStart + localRows.Rows) of the graph with global column ids, and
    /// <paramref name="localTransposedRows"/> the same rows of Aᵀ (null when A is symmetric). Collective.
    /// </summary>
    /// <exception cref="MpiException">The ranks' blocks are not contiguous, do not cover the graph, or disagree on its size.</exception>
    public static DistributedPlan FromLocalRows(MpiComm comm, int nodes, int rowStart, CsrMatrix localRows, CsrMatrix? localTransposedRows,
        CpuOptions? options = null)
        => FromLocalRows(comm, nodes, rowStart, localRows, localTransposedRows, options, null);

    /// <summary>As <see cref="FromLocalRows(MpiComm, int, int, CsrMatrix, CsrMatrix?, CpuOptions?)"/>, with the local products on <paramref name="context"/>'s device.</summary>
    public static DistributedPlan FromLocalRows(MpiComm comm, int nodes, int rowStart, CsrMatrix localRows, CsrMatrix? localTransposedRows,
        ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return FromLocalRows(comm, nodes, rowStart, localRows, localTransposedRows, context.CpuOptions, context);
    }

    private static DistributedPlan FromLocalRows(MpiComm comm, int nodes, int rowStart, CsrMatrix localRows, CsrMatrix? localTransposedRows,
        CpuOptions? options, ComputeContext? context)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(localRows);
        long hash = Hash(localRows) ^ (localTransposedRows is null ? 0 : Hash(localTransposedRows) * 31);
        return Create(comm, nodes, rowStart, localRows, localTransposedRows, options, hash, context);
    }

    private static DistributedPlan Create(MpiComm comm, int nodes, int rowStart, CsrMatrix local, CsrMatrix? localTransposed, CpuOptions? options, long hash,
        ComputeContext? context)
    {
        options ??= CpuOptions.Default;
        string? problem = null;
        if (local.Columns != nodes || (localTransposed is not null && (localTransposed.Columns != nodes || localTransposed.Rows != local.Rows)))
        {
            problem = $"rank {comm.Rank}: its blocks have {local.Columns} (and {localTransposed?.Columns} transposed) columns, not the graph's {nodes}.";
        }
        // Every rank learns every block: contiguous, covering [0, nodes), same size everywhere.
        const int Fields = 5;
        long[] all = Agree(comm, problem, [nodes, rowStart, local.Rows, localTransposed is null ? 1 : 0, hash], "partition", null);
        long next = 0;
        ulong agreed = 0xC2B2AE3D27D4EB4FUL; // one hash on every rank: of each rank's hash, in rank order
        for (int q = 0; q < comm.Size; q++)
        {
            long qNodes = all[Fields * q], qStart = all[Fields * q + 1], qRows = all[Fields * q + 2];
            if (qNodes != nodes || qStart != next || all[Fields * q + 3] != all[3])
            {
                throw new MpiException($"The ranks' blocks do not form one partition: rank {q} holds rows [{qStart}, {qStart + qRows}) of a {qNodes}-node graph " +
                    $"(symmetric: {all[Fields * q + 3] == 1}) where rows from {next} of a {nodes}-node graph were expected.");
            }
            next = qStart + qRows;
            agreed = (agreed ^ (ulong)all[Fields * q + 4]) * 0x100000001B3UL + (agreed >> 31);
        }
        hash = (long)agreed;
        if (next != nodes)
        {
            throw new MpiException($"The ranks' blocks cover rows [0, {next}) of a {nodes}-node graph.");
        }
        int[] bounds = new int[comm.Size + 1];
        for (int q = 0; q < comm.Size; q++)
        {
            bounds[q + 1] = (int)(all[Fields * q + 1] + all[Fields * q + 2]);
        }
        Direction forward = Direction.Build(comm, bounds, rowStart, local, options, context);
        Direction transposed = localTransposed is null ? forward : Direction.Build(comm, bounds, rowStart, localTransposed, options, context);
        return new DistributedPlan(comm, nodes, rowStart, local.Rows, forward, transposed, localTransposed is null, hash, bounds, options) { Context = context };
    }

    internal Workspace WorkspaceFor(int width)
    {
        if (!_workspaces.TryGetValue(width, out Workspace? w))
        {
            w = new Workspace(this, width);
            _workspaces[width] = w;
        }
        return w;
    }

    /// <summary>
    /// Every rank contributes <paramref name="mine"/>; a rank with a local <paramref name="problem"/> contributes a
    /// flag instead, so every rank sees every failure and throws the same way (no rank is left waiting).
    /// With <paramref name="differ"/>, every rank's values must equal this rank's.
    /// </summary>
    internal static long[] Agree(MpiComm comm, string? problem, long[] mine, string what, Func<int, long[], long[], string>? differ)
    {
        var record = new long[mine.Length + 1];
        record[0] = problem is null ? 0 : 1;
        mine.CopyTo(record, 1);
        long[] all = comm.AllGather(record);
        int width = record.Length;
        var failed = Enumerable.Range(0, comm.Size).Where(q => all[q * width] != 0).ToArray();
        if (failed.Length > 0)
        {
            throw new MpiException(problem ?? $"Rank{(failed.Length > 1 ? "s" : "")} {string.Join(", ", failed)} rejected the {what} (see {(failed.Length > 1 ? "their" : "its")} error); no rank went on.");
        }
        var values = new long[comm.Size * mine.Length];
        for (int q = 0; q < comm.Size; q++)
        {
            Array.Copy(all, q * width + 1, values, q * mine.Length, mine.Length);
            if (differ is not null && !values.AsSpan(q * mine.Length, mine.Length).SequenceEqual(mine))
            {
                throw new MpiException(differ(q, mine, values[(q * mine.Length)..((q + 1) * mine.Length)]));
            }
        }
        return values;
    }

    // Rows [start, end) of m, all its columns.
    private static CsrMatrix Slice(CsrMatrix m, int start, int end)
    {
        long first = m.RowOffsets[start];
        var builder = new CsrBuilder(end - start, m.Columns, m.RowOffsets[end] - first);
        for (int r = start; r < end; r++)
        {
            builder.AppendRow(m.RowColumns(r), m.RowValues(r));
        }
        return builder.Build();
    }

    // A 64-bit digest of the shape, offsets, columns and value bits (not cryptographic: it tells ranks apart that were handed different graphs).
    internal static long Hash(CsrMatrix m)
    {
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)m.Rows ^ ((ulong)m.Columns << 32);
        static ulong Mix(ulong h, ulong v) => (h ^ v) * 0x100000001B3UL + (h >> 29);
        for (int r = 0; r < m.Rows; r++)
        {
            ReadOnlySpan<int> cols = m.RowColumns(r);
            ReadOnlySpan<float> vals = m.RowValues(r);
            h = Mix(h, (uint)cols.Length | 0xA5A5_0000_0000_0000UL);
            for (int k = 0; k < cols.Length; k++)
            {
                h = Mix(h, (uint)cols[k] | ((ulong)BitConverter.SingleToUInt32Bits(vals[k]) << 32));
            }
        }
        return (long)h;
    }

    /// <summary>One direction (A or Aᵀ) of a rank's block: its halo exchange and its two local products.</summary>
    internal sealed class Direction
    {
        public required int Rows { get; init; }

        /// <summary>Plan order → local row (interior rows first, each part in row order).</summary>
        public required int[] Order { get; init; }

        public required int InteriorCount { get; init; }

        public required PropagationPlan Interior { get; init; }

        public required PropagationPlan Boundary { get; init; }

        /// <summary>Plan-order indices of own rows to send, peer after peer.</summary>
        public required int[] SendRows { get; init; }

        public required int[] SendCounts { get; init; }

        public required int[] ReceiveCounts { get; init; }

        public required int HaloRows { get; init; }

        /// <summary>The interior product on the plan's context (null without one).</summary>
        public DeviceGraph? InteriorGraph { get; init; }

        /// <summary>The boundary product on the plan's context (null without one).</summary>
        public DeviceGraph? BoundaryGraph { get; init; }

        public static Direction Build(MpiComm comm, int[] bounds, int rowStart, CsrMatrix local, CpuOptions options, ComputeContext? context)
        {
            int rows = local.Rows, rowEnd = rowStart + rows, size = comm.Size;
            // Remote columns read by this block, grouped by owner, ascending: the halo's layout.
            var remote = new SortedSet<int>();
            var interior = new List<int>();
            var boundary = new List<int>();
            for (int r = 0; r < rows; r++)
            {
                bool reads = false;
                foreach (int c in local.RowColumns(r))
                {
                    if (c < rowStart || c >= rowEnd)
                    {
                        remote.Add(c);
                        reads = true;
                    }
                }
                (reads ? boundary : interior).Add(r);
            }
            int[] halo = [.. remote];
            var receiveCounts = new int[size];
            foreach (int c in halo)
            {
                receiveCounts[Owner(bounds, c)]++;
            }
            var haloIndex = new Dictionary<int, int>(halo.Length);
            for (int h = 0; h < halo.Length; h++)
            {
                haloIndex[halo[h]] = h;
            }

            // Each owner learns which of its rows this rank reads, in this rank's halo order.
            int[] wanted = comm.AllToAllV(halo, receiveCounts);
            int[] sendCounts = comm.AllToAll(receiveCounts);

            int[] order = [.. interior, .. boundary];
            var planIndex = new int[rows];
            for (int i = 0; i < rows; i++)
            {
                planIndex[order[i]] = i;
            }
            var sendRows = new int[wanted.Length];
            for (int t = 0; t < wanted.Length; t++)
            {
                sendRows[t] = planIndex[wanted[t] - rowStart];
            }

            CsrMatrix Renumber(List<int> part)
            {
                long entries = 0;
                foreach (int r in part)
                {
                    entries += local.RowLength(r);
                }
                var builder = new CsrBuilder(part.Count, rows + halo.Length, entries);
                int[] buffer = new int[part.Count == 0 ? 0 : part.Max(local.RowLength)];
                foreach (int r in part)
                {
                    ReadOnlySpan<int> cols = local.RowColumns(r);
                    for (int k = 0; k < cols.Length; k++)
                    {
                        int c = cols[k];
                        buffer[k] = c >= rowStart && c < rowEnd ? planIndex[c - rowStart] : rows + haloIndex[c];
                    }
                    builder.AppendRow(buffer.AsSpan(0, cols.Length), local.RowValues(r));
                }
                return builder.Build();
            }

            var interiorPlan = new PropagationPlan(Renumber(interior), options, forwardOnly: true);
            var boundaryPlan = new PropagationPlan(Renumber(boundary), options, forwardOnly: true);
            DeviceGraph? interiorGraph = context?.UploadPlan(interiorPlan);
            DeviceGraph? boundaryGraph;
            try
            {
                boundaryGraph = context?.UploadPlan(boundaryPlan);
            }
            catch
            {
                interiorGraph?.Dispose();
                throw;
            }
            return new Direction
            {
                Rows = rows,
                Order = order,
                InteriorCount = interior.Count,
                Interior = interiorPlan,
                Boundary = boundaryPlan,
                InteriorGraph = interiorGraph,
                BoundaryGraph = boundaryGraph,
                SendRows = sendRows,
                SendCounts = sendCounts,
                ReceiveCounts = receiveCounts,
                HaloRows = halo.Length,
            };
        }
    }

    /// <summary>Tables of one width, kept between calls: two extended tables (own rows in plan order, then the halo), the seed and the send buffer.</summary>
    internal sealed class Workspace
    {
        public Workspace(DistributedPlan plan, int width)
        {
            int halo = Math.Max(plan.Forward.HaloRows, plan.Transposed.HaloRows);
            int send = Math.Max(plan.Forward.SendRows.Length, plan.Transposed.SendRows.Length);
            Width = width;
            ExtendedA = new HostTable(plan.LocalRows + halo, width);
            ExtendedB = new HostTable(plan.LocalRows + halo, width);
            Seed = new HostTable(plan.LocalRows, width);
            Send = new HostTable(send, width);
        }

        public int Width { get; }

        public HostTable ExtendedA { get; }

        public HostTable ExtendedB { get; }

        public HostTable Seed { get; }

        public HostTable Send { get; }
    }

    /// <summary>Device tables of one width (extended tables and seed on the context) and the host staging rows of the halo.</summary>
    internal sealed class DeviceWorkspace : IDisposable
    {
        public DeviceWorkspace(DistributedPlan plan, ComputeContext context, int width)
        {
            int halo = Math.Max(plan.Forward.HaloRows, plan.Transposed.HaloRows);
            int send = Math.Max(plan.Forward.SendRows.Length, plan.Transposed.SendRows.Length);
            ExtendedA = context.CreateTable(Math.Max(1, plan.LocalRows + halo), width);
            ExtendedB = context.CreateTable(Math.Max(1, plan.LocalRows + halo), width);
            Seed = context.CreateTable(Math.Max(1, plan.LocalRows), width);
            Own = new HostTable(plan.LocalRows, width);
            Local = new HostTable(plan.LocalRows, width);
            Halo = new HostTable(halo, width);
            Send = new HostTable(send, width);
        }

        public DeviceTable ExtendedA { get; }

        public DeviceTable ExtendedB { get; }

        public DeviceTable Seed { get; }

        /// <summary>Own rows in plan order, on the host (packing and reordering).</summary>
        public HostTable Own { get; }

        /// <summary>Own rows in the caller's order, on the host.</summary>
        public HostTable Local { get; }

        public HostTable Halo { get; }

        public HostTable Send { get; }

        public void Dispose()
        {
            ExtendedA.Dispose();
            ExtendedB.Dispose();
            Seed.Dispose();
        }
    }
}
