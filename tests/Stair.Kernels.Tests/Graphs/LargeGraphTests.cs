// Opt-in (STAIR_LARGE_TESTS=1; about 17.5 GB of memory and a few minutes on 2 cores): a symmetric
// graph of exactly 2³¹ + 2²⁰ stored entries, built row by row into native memory, prepared as a
// plan (symmetry recognized in place, no transpose) and multiplied; sampled output rows, among them
// the rows around entry 2³¹ and the hubs, are checked against float64. Time and peak memory are
// printed for kernels.md ("64-bit row offsets").
using System.Diagnostics;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;
using Xunit.Abstractions;

namespace Stair.Kernels.Tests.Graphs;

public class LargeGraphTests(ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("STAIR_LARGE_TESTS") == "1";

    [SkippableFact]
    public void Spmm_over_two_to_the_31_plus_2_to_the_20_entries_matches_float64_on_sampled_rows()
    {
        Skip.IfNot(Enabled, "opt-in: STAIR_LARGE_TESTS=1 (about 17.5 GB and a few minutes)");
        const long Target = (1L << 31) + (1L << 20);
        CsrMatrix a = Run(new BandedGraph(nodes: 1 << 21, offsets: 512, hubs: 3, entries: Target, seed: 7), native: false);
        Assert.True(a.IsNativeStorage);
        Assert.Throws<NotSupportedException>(() => a.RowPointers.Length);
        Assert.Throws<NotSupportedException>(() => a.ColumnIndices.Length);
    }

    // The same graph shape, run, checks and storage kind (native memory) at a size CI affords, so the
    // opt-in test's code cannot rot unnoticed; the banded part then holds 2·N·m less the isolated
    // nodes' share, and the hubs make up the rest.
    [Fact]
    public void The_same_pipeline_at_a_small_size_with_native_storage()
    {
        const int Nodes = 1 << 14, Offsets = 16;
        CsrMatrix a = Run(new BandedGraph(Nodes, Offsets, hubs: 3, entries: 2L * Nodes * Offsets, seed: 7), native: true);
        Assert.True(a.IsNativeStorage);
        Assert.Equal(a.RowPointers.Length, a.Rows + 1);
    }

    private CsrMatrix Run(BandedGraph graph, bool native)
    {
        const int D = 8;
        var clock = Stopwatch.StartNew();
        CsrMatrix a = graph.Build(native);
        TimeSpan built = clock.Elapsed;
        Assert.Equal(graph.NonZeros, a.NonZeros);
        Assert.True(a.IsSymmetric() || a.NonZeros > int.MaxValue); // the large one is checked once, by the plan below

        clock.Restart();
        var plan = new PropagationPlan(a);
        TimeSpan planned = clock.Elapsed;
        Assert.True(plan.IsSymmetric);
        Assert.Same(a, plan.Transposed);

        float[] x = TestGraphs.Table(a.Rows, D, seed: 5);
        var y = new HostTable(a.Rows, D);
        clock.Restart();
        Stair.Kernels.Propagation.Spmm(plan, x, y.Span, D);
        TimeSpan multiplied = clock.Elapsed;

        // Rows to check: the hubs, isolated nodes, the first and last rows, the rows whose entries
        // straddle entry 2³¹ (where 32-bit offsets overflow) and the rows after it, and random rows.
        var rows = new SortedSet<int>(graph.Hubs) { 0, 1, a.Rows - 1, graph.IsolatedExample };
        ReadOnlySpan<long> offsets = a.RowOffsets;
        int straddle = 0; // the row holding entry 2³¹ (or the middle entry of a small graph)
        long middle = Math.Min(1L << 31, a.NonZeros / 2);
        while (offsets[straddle + 1] <= middle)
        {
            straddle++;
        }
        for (int r = Math.Max(0, straddle - 2); r < Math.Min(a.Rows, straddle + 3); r++)
        {
            rows.Add(r);
        }
        var rng = new Random(3);
        for (int k = 0; k < 300; k++)
        {
            rows.Add(rng.Next(a.Rows));
        }
        foreach (int r in rows)
        {
            ReadOnlySpan<int> cols = a.RowColumns(r);
            ReadOnlySpan<float> vals = a.RowValues(r);
            double tol = Float64Reference.SpmmTolerance(cols.Length); // the FMA chain's forward-error bound for this row's length
            for (int j = 0; j < D; j++)
            {
                double expected = 0, bound = 0;
                for (int k = 0; k < cols.Length; k++)
                {
                    double term = (double)vals[k] * x[(long)cols[k] * D + j];
                    expected += term;
                    bound += Math.Abs(term);
                }
                float actual = y.Span[(int)((long)r * D + j)];
                Assert.True(Math.Abs(actual - expected) <= tol * bound,
                    $"row {r} (offset {offsets[r]:N0}, {cols.Length} entries), column {j}: {actual} vs {expected} (bound {tol * bound:E3})");
            }
        }
        long peak = PeakResidentBytes();
        output.WriteLine($"N {a.Rows:N0}, nnz {a.NonZeros:N0}, d {D}; build {built.TotalSeconds:F1} s, plan (in-place symmetry check) {planned.TotalSeconds:F1} s, " +
            $"SpMM {multiplied.TotalSeconds:F2} s ({multiplied.TotalNanoseconds / a.NonZeros:F2} ns per entry); peak resident {peak / 1e9:F2} GB " +
            $"(CSR {(a.NonZeros * 8 + (a.Rows + 1L) * 8) / 1e9:F2} GB); straddling row {straddle}; {rows.Count} rows checked");
        Assert.Empty(a.RowColumns(graph.IsolatedExample).ToArray());
        foreach (int hub in graph.Hubs)
        {
            Assert.True(a.RowLength(hub) > 2 * graph.Offsets, $"hub {hub} has {a.RowLength(hub)} entries");
        }
        return a;
    }

    private static long PeakResidentBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    /// <summary>
    /// A symmetric graph with an exact entry count: every non-hub, non-isolated node a links to a ± o_i
    /// (mod N) for m distinct small offsets o_i (both ends eligible), and each hub h links to K_h eligible
    /// nodes, a contiguous run of them in eligible order; the K_h are set so the entries total the target.
    /// Values are D^-1/2 A D^-1/2, rounded once from float64. Rows come out sorted without repeats.
    /// </summary>
    private sealed class BandedGraph
    {
        private readonly int _n;
        private readonly int[] _offsets; // ascending
        private readonly bool[] _excluded; // hubs and isolated nodes: outside the banded part
        private readonly int[] _eligibleRank; // rank among eligible nodes, −1 for excluded ones
        private readonly int _eligible;
        private readonly int[] _hubStart;
        private readonly int[] _hubCount;
        private readonly int[] _degree;

        public BandedGraph(int nodes, int offsets, int hubs, long entries, int seed)
        {
            _n = nodes;
            var rng = new Random(seed);
            var chosen = new SortedSet<int>();
            while (chosen.Count < offsets)
            {
                chosen.Add(rng.Next(1, 4 * offsets));
            }
            _offsets = [.. chosen];
            _excluded = new bool[nodes];
            Hubs = [.. Enumerable.Range(0, hubs).Select(h => (int)((long)nodes * (2 * h + 1) / (2 * hubs)) + 3)];
            foreach (int h in Hubs)
            {
                _excluded[h] = true;
            }
            for (int v = 1009; v < nodes; v += 1009)
            {
                _excluded[v] = true; // isolated
            }
            IsolatedExample = 1009;
            _eligibleRank = new int[nodes];
            for (int v = 0; v < nodes; v++)
            {
                _eligibleRank[v] = _excluded[v] ? -1 : _eligible++;
            }

            // Banded degrees (a node's ± o_i whose other end is eligible), then the hubs take the rest of the target.
            _degree = new int[nodes];
            long banded = 0;
            for (int v = 0; v < nodes; v++)
            {
                if (!_excluded[v])
                {
                    foreach (int o in _offsets)
                    {
                        _degree[v] += (_excluded[Wrap(v + o)] ? 0 : 1) + (_excluded[Wrap(v - o)] ? 0 : 1);
                    }
                    banded += _degree[v];
                }
            }
            long hubEntries = entries - banded;
            Assert.True(hubEntries % 2 == 0 && hubEntries > 0 && hubEntries / 2 <= (long)hubs * _eligible,
                $"the banded part holds {banded:N0} entries; the hubs cannot make up {entries:N0}");
            long hubEdges = hubEntries / 2;
            _hubStart = new int[hubs];
            _hubCount = new int[hubs];
            for (int h = 0; h < hubs; h++)
            {
                _hubCount[h] = (int)(hubEdges / hubs + (h < hubEdges % hubs ? 1 : 0));
                _hubStart[h] = rng.Next(_eligible);
                _degree[Hubs[h]] = _hubCount[h];
            }
            for (int v = 0; v < nodes; v++)
            {
                for (int h = 0; h < hubs; h++)
                {
                    _degree[v] += InHub(h, v) ? 1 : 0;
                }
            }
            NonZeros = entries;
        }

        public int[] Hubs { get; }

        public int IsolatedExample { get; }

        public long NonZeros { get; }

        public int Offsets => _offsets.Length;

        public CsrMatrix Build(bool native)
        {
            var builder = new CsrBuilder(_n, _n, NonZeros, native);
            int[] rowColumns = new int[Math.Max(2 * _offsets.Length + Hubs.Length, _hubCount.Max())];
            float[] rowValues = new float[rowColumns.Length];
            for (int v = 0; v < _n; v++)
            {
                int length = 0;
                int hub = Array.IndexOf(Hubs, v);
                if (hub >= 0)
                {
                    for (int u = 0; u < _n; u++)
                    {
                        if (InHub(hub, u))
                        {
                            rowColumns[length++] = u;
                        }
                    }
                }
                else if (!_excluded[v])
                {
                    for (int i = _offsets.Length - 1; i >= 0; i--)
                    {
                        AddIfEligible(Wrap(v - _offsets[i]));
                    }
                    foreach (int o in _offsets)
                    {
                        AddIfEligible(Wrap(v + o));
                    }
                    if (!IsSorted(rowColumns.AsSpan(0, length)))
                    {
                        Array.Sort(rowColumns, 0, length); // a row whose band wraps around node 0
                    }
                    for (int h = 0; h < Hubs.Length; h++)
                    {
                        if (InHub(h, v))
                        {
                            // Insert the hub in order (a sort per row would cost more than building the graph).
                            int at = ~Array.BinarySearch(rowColumns, 0, length, Hubs[h]);
                            Array.Copy(rowColumns, at, rowColumns, at + 1, length - at);
                            rowColumns[at] = Hubs[h];
                            length++;
                        }
                    }
                }
                for (int k = 0; k < length; k++)
                {
                    rowValues[k] = (float)(1.0 / Math.Sqrt((double)_degree[v] * _degree[rowColumns[k]]));
                }
                builder.AppendRow(rowColumns.AsSpan(0, length), rowValues.AsSpan(0, length));

                void AddIfEligible(int u)
                {
                    if (!_excluded[u])
                    {
                        rowColumns[length++] = u;
                    }
                }
            }
            return builder.Build();
        }

        private static bool IsSorted(ReadOnlySpan<int> values)
        {
            for (int k = 1; k < values.Length; k++)
            {
                if (values[k] <= values[k - 1])
                {
                    return false;
                }
            }
            return true;
        }

        private bool InHub(int h, int v)
            => _eligibleRank[v] >= 0 && (uint)(((long)_eligibleRank[v] - _hubStart[h] + _eligible) % _eligible) < (uint)_hubCount[h];

        private int Wrap(int v) => v < 0 ? v + _n : v >= _n ? v - _n : v;
    }
}
