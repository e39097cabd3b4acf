// Partition probe (issue 16.5): what a graph partitioner would change for the distributed plan. For each
// graph and part count k it compares the plan's contiguous row blocks balanced by cost = entries + 2 per row
// (RowPartition.Split, as DistributedPlan.Partition splits) with METIS 5.1 multilevel k-way (libmetis.so.5,
// P/Invoke; vertex weights = the same cost, fixed seed, default options otherwise), minimizing the edge cut
// (METIS's default) and the communication volume (= the total halo rows here), on the symmetrized
// pattern without the diagonal. Per partition: halo rows per layer (sum over parts of the distinct remote
// columns a part's rows read; what DistributedPlan.HaloRows counts per rank), the largest halo of one part,
// halo MB per layer at d = 64 floats, edge cut (undirected edges between parts), load imbalance (max part
// cost / mean) and the time to partition. METIS's parts are not contiguous, so using them needs a
// relabeling; the probe times it for the METIS (min volume) partition: P·A·Pᵀ built in one pass over the entries (rows
// gathered in part order, column ids mapped, entry order kept) and one n × 64 table permuted.
// Graphs: the suites' synthetic Ã (baby, electronics: power-law, random ids), a clustered Baby-shaped
// graph (32 hidden communities, 90% of interactions inside one, ids random), and a 2-D 5-point grid in
// natural (banded) order and randomly relabeled. A probe, not a feature: without libmetis it says so and
// exits 0.
//
//   dotnet Stair.Kernels.Benchmarks.dll partition-probe [--graphs baby,electronics,clustered,grid,grid-shuffled] [--parts 2,4,8,16,64] [--seed 1]
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Stair.Kernels.Cpu.Propagation;

namespace Stair.Kernels.Benchmarks.Distributed;

internal static partial class PartitionProbeCommand
{
    private const string Library = "libmetis.so.5";
    private const int Width = 64;

    public static int Run(string[] args)
    {
        string[] graphs = ["baby", "electronics", "clustered", "grid", "grid-shuffled"];
        int[] parts = [2, 4, 8, 16, 64];
        int seed = 1;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--graphs" when i + 1 < args.Length:
                    graphs = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries);
                    break;
                case "--parts" when i + 1 < args.Length:
                    parts = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
                    break;
                case "--seed" when i + 1 < args.Length:
                    seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}'; usage: partition-probe [--graphs baby,electronics,clustered,grid,grid-shuffled] [--parts 2,4,8,16,64] [--seed S]");
                    return 2;
            }
        }
        if (!NativeLibrary.TryLoad(Library, out IntPtr handle))
        {
            Console.WriteLine($"partition-probe skipped: {Library} not found (METIS 5.1; on Debian/Ubuntu: apt-get install libmetis-dev)");
            return 0;
        }
        NativeLibrary.Free(handle);

        Console.WriteLine("| graph | k | partitioner | halo rows / layer (all parts) | max halo rows (one part) | halo MB / layer (d = 64) | edge cut | imbalance (max/mean cost) | time ms (METIS: wall (process CPU)) |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|");
        var notes = new List<string>();
        foreach (string name in graphs)
        {
            CsrMatrix a = Build(name);
            var watch = Stopwatch.StartNew();
            (int[] xadj, int[] adjncy) = Symmetrize(a);
            double symmetrizeMs = watch.Elapsed.TotalMilliseconds;
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name}: n = {a.Rows:N0}, nnz = {a.NonZeros:N0}, undirected edges = {adjncy.Length / 2:N0}, symmetrize {symmetrizeMs:F0} ms"));
            foreach (int k in parts)
            {
                watch.Restart();
                int[] bounds = RowPartition.Split(a.RowOffsets, k);
                double splitMs = watch.Elapsed.TotalMilliseconds;
                var blocks = new int[a.Rows];
                for (int p = 0; p < k; p++)
                {
                    blocks.AsSpan(bounds[p], bounds[p + 1] - bounds[p]).Fill(p);
                }
                Row(name, k, "row blocks", Measure(a, xadj, adjncy, blocks, k), splitMs, double.NaN);

                int[] metis = [];
                foreach (bool volume in new[] { false, true })
                {
                    TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    watch.Restart();
                    (int[] found, int objective) = PartGraphKway(a, xadj, adjncy, k, seed, volume);
                    double metisMs = watch.Elapsed.TotalMilliseconds;
                    double metisCpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
                    Stats stats = Measure(a, xadj, adjncy, found, k);
                    // With unit vertex sizes METIS's communication volume is exactly the total halo rows of a symmetric pattern.
                    long counted = volume ? stats.HaloRows : stats.EdgeCut;
                    if (counted != objective)
                    {
                        notes.Add($"{name} k = {k}: METIS reports {(volume ? "volume" : "edge cut")} {objective}, counted {counted}");
                    }
                    Row(name, k, volume ? "METIS k-way, min volume" : "METIS k-way, min cut", stats, metisMs, metisCpuMs);
                    metis = found;
                }
                (double graphMs, double tableMs) = Relabel(a, metis, k);
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{name} k = {k}: relabel P·A·Pᵀ {graphMs:F2} ms, permute one n × {Width} table {tableMs:F2} ms"));
            }
        }
        Console.WriteLine();
        foreach (string note in notes)
        {
            Console.WriteLine(note);
        }
        return 0;
    }

    private readonly record struct Stats(long HaloRows, long MaxHalo, long EdgeCut, double Imbalance);

    private static void Row(string graph, int k, string partitioner, Stats s, double ms, double cpuMs)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {graph} | {k} | {partitioner} | {s.HaloRows:N0} | {s.MaxHalo:N0} | {s.HaloRows * Width * 4 / 1e6:F2} | {s.EdgeCut:N0} | {s.Imbalance:F3} | {ms:F1}{(double.IsNaN(cpuMs) ? "" : $" ({cpuMs:F0})")} |"));

    private static CsrMatrix Build(string name)
    {
        DatasetShape baby = DatasetShape.Baby;
        return name switch
        {
            "baby" or "electronics" => PropagationBenchmarks.Graph(PropagationBenchmarks.Shape(name)),
            "clustered" => Clustered(baby.Users, baby.Items, baby.Interactions, communities: 32, inside: 0.9, seed: 2025),
            "grid" => Grid(160, shuffle: false),
            "grid-shuffled" => Grid(160, shuffle: true),
            _ => throw new ArgumentException($"unknown graph '{name}' (baby, electronics, clustered, grid, grid-shuffled)"),
        };
    }

    /// <summary>A user–item graph whose users and items fall in hidden communities: a share <paramref name="inside"/>
    /// of the interactions are power-law draws within one community, the rest power-law draws over everything; ids random.</summary>
    private static CsrMatrix Clustered(int users, int items, int interactions, int communities, double inside, ulong seed)
    {
        var rng = new Random((int)seed);
        int[] userIds = Shuffled(users, rng), itemIds = Shuffled(items, rng);
        var pairs = new HashSet<long>();
        var u = new List<int>();
        var i = new List<int>();
        void Add(int user, int item)
        {
            if (pairs.Add(((long)user << 32) | (uint)item))
            {
                u.Add(user);
                i.Add(item);
            }
        }
        for (int c = 0; c < communities; c++)
        {
            int u0 = (int)((long)users * c / communities), u1 = (int)((long)users * (c + 1) / communities);
            int i0 = (int)((long)items * c / communities), i1 = (int)((long)items * (c + 1) / communities);
            int count = (int)(interactions * inside / communities);
            (int[] cu, int[] ci) = SyntheticGraphs.PowerLawInteractions(u1 - u0, i1 - i0, count, seed + (ulong)c + 1);
            for (int e = 0; e < cu.Length; e++)
            {
                Add(userIds[u0 + cu[e]], itemIds[i0 + ci[e]]);
            }
        }
        (int[] gu, int[] gi) = SyntheticGraphs.PowerLawInteractions(users, items, (int)(interactions * (1 - inside)), seed);
        for (int e = 0; e < gu.Length; e++)
        {
            Add(userIds[gu[e]], itemIds[gi[e]]);
        }
        return GraphBuilder.UserItemAdjacency(users, items, u.ToArray(), i.ToArray());
    }

    /// <summary>A side × side 5-point grid (unit weights), rows in natural order or randomly relabeled.</summary>
    private static CsrMatrix Grid(int side, bool shuffle)
    {
        int n = side * side;
        int[] label = shuffle ? Shuffled(n, new Random(7)) : [.. Enumerable.Range(0, n)];
        var neighbours = new List<int>[n];
        for (int y = 0; y < side; y++)
        {
            for (int x = 0; x < side; x++)
            {
                var list = new List<int>(4);
                foreach ((int nx, int ny) in new[] { (x, y - 1), (x - 1, y), (x + 1, y), (x, y + 1) })
                {
                    if (nx >= 0 && nx < side && ny >= 0 && ny < side)
                    {
                        list.Add(label[ny * side + nx]);
                    }
                }
                list.Sort();
                neighbours[label[y * side + x]] = list;
            }
        }
        var ptr = new int[n + 1];
        for (int r = 0; r < n; r++)
        {
            ptr[r + 1] = ptr[r] + neighbours[r].Count;
        }
        int[] cols = [.. neighbours.SelectMany(l => l)];
        float[] vals = new float[cols.Length];
        vals.AsSpan().Fill(0.25f);
        return new CsrMatrix(n, n, ptr, cols, vals);
    }

    private static int[] Shuffled(int n, Random rng)
    {
        int[] p = [.. Enumerable.Range(0, n)];
        rng.Shuffle(p);
        return p;
    }

    /// <summary>The pattern of A + Aᵀ without the diagonal, as METIS's xadj/adjncy (each row's neighbours distinct).</summary>
    private static (int[] Xadj, int[] Adjncy) Symmetrize(CsrMatrix a)
    {
        CsrMatrix t = a.Transpose();
        int n = a.Rows;
        var stamp = new int[n];
        stamp.AsSpan().Fill(-1);
        var xadj = new int[n + 1];
        for (int pass = 0; pass < 2; pass++)
        {
            int[]? adjncy = pass == 1 ? new int[xadj[n]] : null;
            stamp.AsSpan().Fill(-1);
            for (int r = 0; r < n; r++)
            {
                int count = 0, at = pass == 1 ? xadj[r] : 0;
                for (int side = 0; side < 2; side++)
                {
                    foreach (int c in side == 0 ? a.RowColumns(r) : t.RowColumns(r))
                    {
                        if (c != r && stamp[c] != r)
                        {
                            stamp[c] = r;
                            if (adjncy is not null)
                            {
                                adjncy[at + count] = c;
                            }
                            count++;
                        }
                    }
                }
                if (pass == 0)
                {
                    xadj[r + 1] = xadj[r] + count;
                }
            }
            if (adjncy is not null)
            {
                return (xadj, adjncy);
            }
        }
        throw new UnreachableException();
    }

    private static Stats Measure(CsrMatrix a, int[] xadj, int[] adjncy, int[] part, int k)
    {
        int n = a.Rows;
        // Rows grouped by part (counting sort), so one stamp array counts each part's distinct remote columns.
        var start = new int[k + 1];
        foreach (int p in part)
        {
            start[p + 1]++;
        }
        for (int p = 0; p < k; p++)
        {
            start[p + 1] += start[p];
        }
        var order = new int[n];
        var fill = (int[])start.Clone();
        for (int r = 0; r < n; r++)
        {
            order[fill[part[r]]++] = r;
        }
        var stamp = new int[n];
        stamp.AsSpan().Fill(-1);
        long total = 0, max = 0;
        var cost = new long[k];
        for (int p = 0; p < k; p++)
        {
            long halo = 0;
            for (int j = start[p]; j < start[p + 1]; j++)
            {
                int r = order[j];
                ReadOnlySpan<int> cols = a.RowColumns(r);
                cost[p] += cols.Length + 2;
                foreach (int c in cols)
                {
                    if (part[c] != p && stamp[c] != p)
                    {
                        stamp[c] = p;
                        halo++;
                    }
                }
            }
            total += halo;
            max = Math.Max(max, halo);
        }
        long cut = 0;
        for (int r = 0; r < n; r++)
        {
            for (int e = xadj[r]; e < xadj[r + 1]; e++)
            {
                if (part[adjncy[e]] != part[r])
                {
                    cut++;
                }
            }
        }
        double mean = cost.Sum() / (double)k;
        return new Stats(total, max, cut / 2, cost.Max() / mean);
    }

    private static unsafe (int[] Part, int EdgeCut) PartGraphKway(CsrMatrix a, int[] xadj, int[] adjncy, int k, int seed, bool volume)
    {
        int n = a.Rows;
        var vwgt = new int[n];
        for (int r = 0; r < n; r++)
        {
            vwgt[r] = a.RowLength(r) + 2; // RowPartition's cost model
        }
        var options = new int[40]; // METIS_NOPTIONS
        var part = new int[n];
        int nvtxs = n, ncon = 1, nparts = k, objective = 0;
        fixed (int* o = options, x = xadj, adj = adjncy, w = vwgt, pt = part)
        {
            Check(METIS_SetDefaultOptions(o), "METIS_SetDefaultOptions");
            o[8] = seed; // METIS_OPTION_SEED
            o[1] = volume ? 1 : 0; // METIS_OPTION_OBJTYPE: METIS_OBJTYPE_VOL (total communication volume) or METIS_OBJTYPE_CUT (the default)
            Check(METIS_PartGraphKway(&nvtxs, &ncon, x, adj, w, null, null, &nparts, null, null, o, &objective, pt), "METIS_PartGraphKway");
        }
        return (part, objective);
    }

    private static void Check(int status, string call)
    {
        if (status != 1) // METIS_OK
        {
            throw new InvalidOperationException($"{call} returned {status}");
        }
    }

    /// <summary>Times using a partition that is not contiguous: P·A·Pᵀ with rows in part order (one pass over the
    /// entries, each row's entry order kept) and one n × 64 table gathered into that order; medians of 5.</summary>
    private static (double GraphMs, double TableMs) Relabel(CsrMatrix a, int[] part, int k)
    {
        int n = a.Rows;
        long nnz = a.NonZeros;
        var graph = new List<double>();
        var table = new List<double>();
        float[] source = new float[(long)n * Width];
        float[] target = new float[source.Length];
        var offsets = new long[n + 1];
        var cols = new int[nnz];
        var vals = new float[nnz];
        for (int rep = 0; rep < 5; rep++)
        {
            var watch = Stopwatch.StartNew();
            var next = new int[k + 1];
            foreach (int p in part)
            {
                next[p + 1]++;
            }
            for (int p = 0; p < k; p++)
            {
                next[p + 1] += next[p];
            }
            var perm = new int[n];    // new id → old id
            var newId = new int[n];   // old id → new id
            for (int r = 0; r < n; r++)
            {
                int id = next[part[r]]++;
                perm[id] = r;
                newId[r] = id;
            }
            long at = 0;
            for (int i = 0; i < n; i++)
            {
                int r = perm[i];
                ReadOnlySpan<int> rc = a.RowColumns(r);
                a.RowValues(r).CopyTo(vals.AsSpan((int)at, rc.Length));
                for (int e = 0; e < rc.Length; e++)
                {
                    cols[at + e] = newId[rc[e]];
                }
                at += rc.Length;
                offsets[i + 1] = at;
            }
            graph.Add(watch.Elapsed.TotalMilliseconds);

            watch.Restart();
            for (int i = 0; i < n; i++)
            {
                source.AsSpan(perm[i] * Width, Width).CopyTo(target.AsSpan(i * Width, Width));
            }
            table.Add(watch.Elapsed.TotalMilliseconds);
        }
        graph.Sort();
        table.Sort();
        return (graph[2], table[2]);
    }

    [LibraryImport(Library)]
    private static unsafe partial int METIS_SetDefaultOptions(int* options);

    [LibraryImport(Library)]
    private static unsafe partial int METIS_PartGraphKway(int* nvtxs, int* ncon, int* xadj, int* adjncy, int* vwgt, int* vsize,
        int* adjwgt, int* nparts, float* tpwgts, float* ubvec, int* options, int* edgecut, int* part);
}
