// The exact, backend-independent half of the kNN graph: rows normalized once on the host in
// float64 (stored as float32, zero rows set aside), and the finish that rescores each row's
// screening survivors in float64 and takes the top k (score descending, ties to the lower
// index). Every operation here gives the same bits on every SIMD tier: products of float32
// values are exact in float64, and each dot product adds them in one fixed lane order.
using System.Buffers;
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.KnnGraph;

/// <summary>One modality's features after normalization: the non-zero rows, unit length, packed, exact duplicates thinned.</summary>
/// <param name="Unit">Packed.Length × Columns float32 rows (the array may be longer), each x / ‖x‖ computed in float64; rented from <see cref="ArrayPool{T}.Shared"/> (<see cref="Release"/>).</param>
/// <param name="Packed">Original item index of each packed row, increasing.</param>
/// <param name="Zero">Original indices of the all-zero rows, increasing.</param>
/// <param name="Leader">
/// Per item: for a non-zero row whose unit row is bitwise identical to at least k + 1 earlier rows'
/// (a "thinned" duplicate, not packed), the first row of its group; −1 for every other row.
/// </param>
/// <param name="Columns">Feature width F.</param>
internal sealed record KnnRows(float[] Unit, int[] Packed, int[] Zero, int[] Leader, int Columns)
{
    public int Count => Packed.Length;

    /// <summary>Hands <see cref="Unit"/> back to the shared pool; the rows must not be used afterwards.</summary>
    public void Release() => ArrayPool<float>.Shared.Return(Unit);
}

internal static unsafe class KnnExact
{
    /// <summary>
    /// Normalizes the rows of <paramref name="features"/> (items × columns, finite) on the host and thins exact
    /// duplicates: of a group of rows with bitwise identical unit rows only the first k + 1 are screened. Every
    /// member scores the same d against everything, so a later member is beaten by k earlier ones from any
    /// viewpoint and is never a neighbour; its own list is its leader's plus the leader (see <see cref="Finish"/>).
    /// This keeps the screen's survivors O(k) per row even when many items share one feature vector.
    /// </summary>
    public static KnnRows Normalize(ReadOnlySpan<float> features, int items, int columns, int k, SimdTier tier, int threads)
    {
        var norms = new double[items];
        int[] packed;
        float[] unit;
        ulong[] hashes;
        fixed (float* f = features)
        {
            var job = new NormalizeJob(f, norms, columns, tier);
            job.Start(items, null, null, null);
            CpuWorkerPool.Shared.Run(job, threads);
            packed = Enumerable.Range(0, items).Where(i => norms[i] > 0).ToArray();
            // Rented, not allocated: the unit copy is as large as the input (115 MB for Baby's visual
            // features), and first-touching fresh pages costs ~0.2 s per call on this VM (kernels.md, KnnGraph).
            unit = ArrayPool<float>.Shared.Rent(packed.Length * columns);
            hashes = new ulong[packed.Length];
            job.Start(packed.Length, packed, unit, hashes);
            CpuWorkerPool.Shared.Run(job, threads);
        }
        int[] zero = Enumerable.Range(0, items).Where(i => norms[i] == 0).ToArray();
        var leader = new int[items];
        Array.Fill(leader, -1);
        var keep = new bool[packed.Length];
        Array.Fill(keep, true);
        // Equal hashes first, then exact comparison against the group leaders seen so far.
        int[] order = Enumerable.Range(0, packed.Length).ToArray();
        Array.Sort(order, (x, y) => hashes[x] != hashes[y] ? hashes[x].CompareTo(hashes[y]) : x.CompareTo(y));
        fixed (float* u = unit)
        {
            for (int start = 0, end; start < order.Length; start = end)
            {
                end = start + 1;
                while (end < order.Length && hashes[order[end]] == hashes[order[start]])
                {
                    end++;
                }
                if (end - start == 1)
                {
                    continue;
                }
                var groups = new List<(int Leader, int Members)>();
                for (int q = start; q < end; q++)
                {
                    int r = order[q];
                    var row = new ReadOnlySpan<float>(u + (long)r * columns, columns);
                    int g = 0;
                    while (g < groups.Count && !row.SequenceEqual(new ReadOnlySpan<float>(u + (long)groups[g].Leader * columns, columns)))
                    {
                        g++;
                    }
                    if (g == groups.Count)
                    {
                        g = -1;
                    }
                    if (g < 0)
                    {
                        groups.Add((r, 1));
                        continue;
                    }
                    groups[g] = (groups[g].Leader, groups[g].Members + 1);
                    if (groups[g].Members > k + 1)
                    {
                        keep[r] = false;
                        leader[packed[r]] = packed[groups[g].Leader];
                    }
                }
            }
            // Compact the kept rows in place (they keep their order, so each moves down or stays).
            int kept = 0;
            for (int r = 0; r < packed.Length; r++)
            {
                if (!keep[r])
                {
                    continue;
                }
                if (kept != r)
                {
                    Buffer.MemoryCopy(u + (long)r * columns, u + (long)kept * columns, (long)columns * sizeof(float), (long)columns * sizeof(float));
                    packed[kept] = packed[r];
                }
                kept++;
            }
            if (kept < packed.Length)
            {
                packed = packed[..kept];
            }
        }
        return new KnnRows(unit, packed, zero, leader, columns);
    }

    // Phase 1 (rows == null): the norm of every item. Phase 2: the packed rows divided by their norms,
    // and a hash of each result's bits.
    private sealed class NormalizeJob(float* features, double[] norms, int columns, SimdTier tier) : ParallelJob, ISimdParts
    {
        private const int RowsPerPart = 64;
        private int _count;
        private int[]? _rows;
        private float[]? _unit;
        private ulong[]? _hashes;

        public void Start(int count, int[]? rows, float[]? unit, ulong[]? hashes)
        {
            (_count, _rows, _unit, _hashes) = (count, rows, unit, hashes);
            PartCount = (count + RowsPerPart - 1) / RowsPerPart;
        }

        public override void Execute(int part) => SimdDispatch.RunPart(tier, this, part);

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void ExecutePart<TVec, TDouble>(int part)
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            int end = Math.Min(_count, (part + 1) * RowsPerPart);
            if (_rows is null)
            {
                for (int i = part * RowsPerPart; i < end; i++)
                {
                    float* row = features + (long)i * columns;
                    norms[i] = Math.Sqrt(Dot<TDouble>(row, row, columns));
                }
                return;
            }
            fixed (float* unit = _unit)
            {
                for (int r = part * RowsPerPart; r < end; r++)
                {
                    float* source = features + (long)_rows[r] * columns, target = unit + (long)r * columns;
                    double norm = norms[_rows[r]];
                    // Each element is one correctly rounded division and one rounding to float32: the same bits in any vector width.
                    int p = 0;
                    for (; p + TVec.Count <= columns; p += TVec.Count)
                    {
                        TVec.Store(TVec.DivideInDouble(TVec.Load(source + p), norm), target + p);
                    }
                    for (; p < columns; p++)
                    {
                        Float1.Store(Float1.DivideInDouble(Float1.Load(source + p), norm), target + p);
                    }
                    ulong h = 0x9E3779B97F4A7C15UL;
                    uint* bits = (uint*)target;
                    for (int q = 0; q < columns; q++)
                    {
                        h = (h ^ bits[q]) * 0x100000001B3UL;
                    }
                    _hashes![r] = h;
                }
            }
        }
    }

    /// <summary>
    /// Σ a_p·b_p in float64 in a fixed order: lane l (of eight) adds the exact products p ≡ l (mod 8)
    /// in increasing p, the tail p ≥ F − F mod 8 goes to lane p mod 8, then lanes 0–7 are added as
    /// ((0+4)+(2+6)) + ((1+5)+(3+7)). The eight lanes are one 8-lane vector (AVX-512), two 4-lane
    /// vectors (AVX2) or eight doubles (scalar), so the result is the same bits on every tier.
    /// </summary>
    public static double Dot(float* a, float* b, int n, SimdTier tier)
    {
        var kernel = new DotKernel(a, b, n);
        SimdDispatch.Run(tier, ref kernel);
        return kernel.Result;
    }

    private struct DotKernel(float* a, float* b, int n) : ISimdKernel
    {
        public double Result;

        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
            => Result = Dot<TDouble>(a, b, n);
    }

    /// <inheritdoc cref="Dot(float*, float*, int, SimdTier)"/>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Dot<TVec>(float* a, float* b, int n)
        where TVec : struct, IDoubleVector<TVec>
    {
        int w = TVec.Count;
        int full = n - n % 8;
        double* lanes = stackalloc double[8];
        TVec l0 = TVec.Zero, l1 = l0, l2 = l0, l3 = l0, l4 = l0, l5 = l0, l6 = l0, l7 = l0;
        for (int p = 0; p < full; p += 8)
        {
            l0 = TVec.Add(l0, TVec.Mul(TVec.LoadWidened(a + p), TVec.LoadWidened(b + p)));
            if (w <= 4)
            {
                l1 = TVec.Add(l1, TVec.Mul(TVec.LoadWidened(a + p + w), TVec.LoadWidened(b + p + w)));
            }
            if (w == 1)
            {
                l2 = TVec.Add(l2, TVec.Mul(TVec.LoadWidened(a + p + 2), TVec.LoadWidened(b + p + 2)));
                l3 = TVec.Add(l3, TVec.Mul(TVec.LoadWidened(a + p + 3), TVec.LoadWidened(b + p + 3)));
                l4 = TVec.Add(l4, TVec.Mul(TVec.LoadWidened(a + p + 4), TVec.LoadWidened(b + p + 4)));
                l5 = TVec.Add(l5, TVec.Mul(TVec.LoadWidened(a + p + 5), TVec.LoadWidened(b + p + 5)));
                l6 = TVec.Add(l6, TVec.Mul(TVec.LoadWidened(a + p + 6), TVec.LoadWidened(b + p + 6)));
                l7 = TVec.Add(l7, TVec.Mul(TVec.LoadWidened(a + p + 7), TVec.LoadWidened(b + p + 7)));
            }
        }
        TVec.Store(l0, lanes);
        if (w <= 4)
        {
            TVec.Store(l1, lanes + w);
        }
        if (w == 1)
        {
            TVec.Store(l2, lanes + 2);
            TVec.Store(l3, lanes + 3);
            TVec.Store(l4, lanes + 4);
            TVec.Store(l5, lanes + 5);
            TVec.Store(l6, lanes + 6);
            TVec.Store(l7, lanes + 7);
        }
        for (int p = full; p < n; p++)
        {
            lanes[p - full] += (double)a[p] * b[p];
        }
        return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
    }

    /// <summary>
    /// The neighbour lists (items × k, best first): each packed row's survivors rescored in float64, together
    /// with the lowest-index zero rows (score exactly 0), sorted by score descending then index ascending.
    /// A zero row scores 0 against everything, so its neighbours are the lowest indices other than itself.
    /// A thinned duplicate (<see cref="KnnRows.Leader"/>) takes the best k of its leader's list plus the
    /// leader itself (every item other than those is beaten by k of them, none of which is the duplicate).
    /// </summary>
    public static int[] Finish(KnnRows rows, int items, int k, KnnCandidates candidates, SimdTier tier, int threads)
    {
        var result = new int[(long)items * k];
        var job = new FinishJob(rows, items, k, candidates, tier, result);
        CpuWorkerPool.Shared.Run(job, threads);
        job.Duplicates = true;
        CpuWorkerPool.Shared.Run(job, threads);
        return result;
    }

    private sealed class FinishJob : ParallelJob, ISimdParts
    {
        private const int RowsPerPart = 64;
        private readonly KnnRows _rows;
        private readonly int _items;
        private readonly int _k;
        private readonly KnnCandidates _candidates;
        private readonly SimdTier _tier;
        private readonly int[] _result;
        private readonly int[] _packedOf; // item → packed row, −1 for a zero row or a thinned duplicate

        public FinishJob(KnnRows rows, int items, int k, KnnCandidates candidates, SimdTier tier, int[] result)
        {
            _rows = rows;
            _items = items;
            _k = k;
            _candidates = candidates;
            _tier = tier;
            _result = result;
            _packedOf = new int[items];
            Array.Fill(_packedOf, -1);
            for (int r = 0; r < rows.Count; r++)
            {
                _packedOf[rows.Packed[r]] = r;
            }
            PartCount = (items + RowsPerPart - 1) / RowsPerPart;
        }

        /// <summary>False: packed and zero rows. True: the thinned duplicates (they read their leaders' lists).</summary>
        public bool Duplicates;

        public override void Execute(int part) => SimdDispatch.RunPart(_tier, this, part);

        public void ExecutePart<TVec, TDouble>(int part)
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            int end = Math.Min(_items, (part + 1) * RowsPerPart), k = _k, columns = _rows.Columns;
            var scored = new List<(double Score, int Index)>(4 * k + 16);
            fixed (float* unit = _rows.Unit)
            {
                for (int item = part * RowsPerPart; item < end; item++)
                {
                    Span<int> output = _result.AsSpan(item * k, k);
                    int packed = _packedOf[item], leader = _rows.Leader[item];
                    if ((leader >= 0) != Duplicates)
                    {
                        continue;
                    }
                    scored.Clear();
                    if (leader >= 0)
                    {
                        float* lead = unit + (long)_packedOf[leader] * columns;
                        scored.Add((Dot<TDouble>(lead, lead, columns), leader));
                        foreach (int j in _result.AsSpan(leader * k, k))
                        {
                            scored.Add((_packedOf[j] < 0 ? 0.0 : Dot<TDouble>(lead, unit + (long)_packedOf[j] * columns, columns), j));
                        }
                    }
                    else if (packed < 0)
                    {
                        for (int j = 0, r = 0; r < k; j++)
                        {
                            if (j != item)
                            {
                                output[r++] = j;
                            }
                        }
                        continue;
                    }
                    else
                    {
                        _candidates.Compact(packed);
                        float* self = unit + (long)packed * columns;
                        foreach (KnnCandidate c in _candidates.Survivors(packed))
                        {
                            scored.Add((Dot<TDouble>(self, unit + (long)c.Index * columns, columns), _rows.Packed[c.Index]));
                        }
                        for (int z = 0; z < Math.Min(k, _rows.Zero.Length); z++)
                        {
                            scored.Add((0.0, _rows.Zero[z]));
                        }
                    }
                    scored.Sort(static (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Index.CompareTo(y.Index));
                    for (int r = 0; r < k; r++)
                    {
                        output[r] = scored[r].Index;
                    }
                }
            }
        }
    }
}
