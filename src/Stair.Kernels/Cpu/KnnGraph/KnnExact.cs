// The exact, backend-independent half of the kNN graph: rows normalized once on the host in
// float64 (stored as float32, zero rows set aside), and the finish that rescores each row's
// screening survivors in float64 and takes the top k (score descending, ties to the lower
// index). Every operation here gives the same bits on every SIMD tier: products of float32
// values are exact in float64, and each dot product adds them in one fixed lane order.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stair.Kernels.Cpu.KnnGraph;

/// <summary>One modality's features after normalization: the non-zero rows, unit length, packed.</summary>
/// <param name="Unit">NonZero.Length × Columns float32 rows, each x / ‖x‖ computed in float64 (pinned).</param>
/// <param name="NonZero">Original item index of each packed row, increasing.</param>
/// <param name="Zero">Original indices of the all-zero rows, increasing.</param>
/// <param name="Columns">Feature width F.</param>
internal sealed record KnnRows(float[] Unit, int[] NonZero, int[] Zero, int Columns)
{
    public int Count => NonZero.Length;
}

internal static unsafe class KnnExact
{
    /// <summary>Normalizes the rows of <paramref name="features"/> (items × columns, finite) on the host.</summary>
    public static KnnRows Normalize(ReadOnlySpan<float> features, int items, int columns, SimdTier tier, int threads)
    {
        var nonZero = new List<int>(items);
        var zero = new List<int>();
        var norms = new double[items];
        fixed (float* f = features)
        {
            for (int i = 0; i < items; i++)
            {
                float* row = f + (long)i * columns;
                double norm = Math.Sqrt(Dot(row, row, columns, tier));
                norms[i] = norm;
                (norm > 0 ? nonZero : zero).Add(i);
            }
        }
        int[] packed = nonZero.ToArray();
        float[] unit = GC.AllocateUninitializedArray<float>(packed.Length * columns, pinned: true);
        fixed (float* f = features)
        {
            var job = new NormalizeJob(f, unit, packed, norms, columns);
            CpuWorkerPool.Shared.Run(job, threads);
        }
        return new KnnRows(unit, packed, zero.ToArray(), columns);
    }

    private sealed class NormalizeJob : ParallelJob
    {
        private const int RowsPerPart = 64;
        private readonly float* _features;
        private readonly float[] _unit;
        private readonly int[] _rows;
        private readonly double[] _norms;
        private readonly int _columns;

        public NormalizeJob(float* features, float[] unit, int[] rows, double[] norms, int columns)
        {
            _features = features;
            _unit = unit;
            _rows = rows;
            _norms = norms;
            _columns = columns;
            PartCount = (rows.Length + RowsPerPart - 1) / RowsPerPart;
        }

        public override void Execute(int part)
        {
            int end = Math.Min(_rows.Length, (part + 1) * RowsPerPart);
            fixed (float* unit = _unit)
            {
                for (int r = part * RowsPerPart; r < end; r++)
                {
                    float* source = _features + (long)_rows[r] * _columns, target = unit + (long)r * _columns;
                    double norm = _norms[_rows[r]];
                    // Each element is one correctly rounded division and one rounding to float32: the same bits in any vector width.
                    int p = 0;
                    if (Vector256.IsHardwareAccelerated)
                    {
                        Vector256<double> n = Vector256.Create(norm);
                        for (; p + 8 <= _columns; p += 8)
                        {
                            (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.Load(source + p));
                            Vector256.Narrow(lo / n, hi / n).Store(target + p);
                        }
                    }
                    for (; p < _columns; p++)
                    {
                        target[p] = (float)(source[p] / norm);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Σ a_p·b_p in float64 in a fixed order: lane l (of eight) adds the exact products p ≡ l (mod 8)
    /// in increasing p, the tail p ≥ F − F mod 8 goes to lane p mod 8, then lanes 0–7 are added as
    /// ((0+4)+(2+6)) + ((1+5)+(3+7)). AVX-512 (one 8-lane vector), AVX2 (two 4-lane vectors) and scalar
    /// code perform exactly these additions, so the result is the same bits on every tier.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Dot(float* a, float* b, int n, SimdTier tier)
    {
        int full = n - n % 8;
        double* lanes = stackalloc double[8];
        if (tier == SimdTier.Avx512 && Avx512F.IsSupported)
        {
            Vector512<double> acc = Vector512<double>.Zero;
            for (int p = 0; p < full; p += 8)
            {
                acc += Avx512F.ConvertToVector512Double(Vector256.Load(a + p)) * Avx512F.ConvertToVector512Double(Vector256.Load(b + p));
            }
            acc.Store(lanes);
        }
        else if (tier != SimdTier.Scalar && Vector256.IsHardwareAccelerated)
        {
            Vector256<double> lo = Vector256<double>.Zero, hi = lo;
            for (int p = 0; p < full; p += 8)
            {
                (Vector256<double> alo, Vector256<double> ahi) = Vector256.Widen(Vector256.Load(a + p));
                (Vector256<double> blo, Vector256<double> bhi) = Vector256.Widen(Vector256.Load(b + p));
                lo += alo * blo;
                hi += ahi * bhi;
            }
            lo.Store(lanes);
            hi.Store(lanes + 4);
        }
        else
        {
            double l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
            for (int p = 0; p < full; p += 8)
            {
                l0 += (double)a[p] * b[p];
                l1 += (double)a[p + 1] * b[p + 1];
                l2 += (double)a[p + 2] * b[p + 2];
                l3 += (double)a[p + 3] * b[p + 3];
                l4 += (double)a[p + 4] * b[p + 4];
                l5 += (double)a[p + 5] * b[p + 5];
                l6 += (double)a[p + 6] * b[p + 6];
                l7 += (double)a[p + 7] * b[p + 7];
            }
            lanes[0] = l0; lanes[1] = l1; lanes[2] = l2; lanes[3] = l3;
            lanes[4] = l4; lanes[5] = l5; lanes[6] = l6; lanes[7] = l7;
        }
        for (int p = full; p < n; p++)
        {
            lanes[p - full] += (double)a[p] * b[p];
        }
        return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
    }

    /// <summary>
    /// The neighbour lists (items × k, best first): each row's survivors rescored in float64, together
    /// with the lowest-index zero rows (score exactly 0), sorted by score descending then index ascending.
    /// A zero row scores 0 against everything, so its neighbours are the lowest indices other than itself.
    /// </summary>
    public static int[] Finish(KnnRows rows, int items, int k, KnnCandidates candidates, SimdTier tier, int threads)
    {
        var result = new int[(long)items * k];
        var job = new FinishJob(rows, items, k, candidates, tier, result);
        CpuWorkerPool.Shared.Run(job, threads);
        return result;
    }

    private sealed class FinishJob : ParallelJob
    {
        private const int RowsPerPart = 64;
        private readonly KnnRows _rows;
        private readonly int _items;
        private readonly int _k;
        private readonly KnnCandidates _candidates;
        private readonly SimdTier _tier;
        private readonly int[] _result;
        private readonly int[] _packedOf; // item → packed row, −1 for a zero row

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
                _packedOf[rows.NonZero[r]] = r;
            }
            PartCount = (items + RowsPerPart - 1) / RowsPerPart;
        }

        public override void Execute(int part)
        {
            int end = Math.Min(_items, (part + 1) * RowsPerPart), k = _k, columns = _rows.Columns;
            var scored = new List<(double Score, int Index)>(4 * k + 16);
            fixed (float* unit = _rows.Unit)
            {
                for (int item = part * RowsPerPart; item < end; item++)
                {
                    Span<int> output = _result.AsSpan(item * k, k);
                    int packed = _packedOf[item];
                    if (packed < 0)
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
                    scored.Clear();
                    _candidates.Compact(packed);
                    float* self = unit + (long)packed * columns;
                    foreach (KnnCandidate c in _candidates.Survivors(packed))
                    {
                        scored.Add((Dot(self, unit + (long)c.Index * columns, columns, _tier), _rows.NonZero[c.Index]));
                    }
                    for (int z = 0; z < Math.Min(k, _rows.Zero.Length); z++)
                    {
                        scored.Add((0.0, _rows.Zero[z]));
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
