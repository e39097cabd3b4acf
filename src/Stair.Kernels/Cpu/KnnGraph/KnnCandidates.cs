// The host side of the kNN graph shared by every backend: a streaming screen of float32
// similarity blocks that keeps, per row, every column that could still belong to the row's
// top k, and the exact finish that picks the top k among those survivors with float64
// scores. The screen is the only place a backend's float32 rounding enters, and it can
// only add survivors, never lose a true neighbour; the finish depends on the host-normalized
// rows alone. So every backend, SIMD tier, thread count and block size yields the same
// neighbour lists (kernels.md, "KnnGraph").
//
// Why a window of 2E: let f be a backend's float32 score of a pair and d the host's float64
// score of the same two float32 rows. Both are rounded evaluations of one exact dot product
// of rows of norm at most 1 + 2⁻²³, so |f − d| ≤ E (see ScreeningError). Once a row has
// seen k columns with f ≥ t, each of them has d ≥ t − E; a column with f < t − 2E has
// d < t − E, strictly below k others, so it is not in the top k whatever the tie rule.
// The running k-th best screening score only rises, so a column dropped early stays out.
using System.Numerics;
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.KnnGraph;

/// <summary>One surviving column of a row: its index (among the non-zero rows) and its float32 screening score.</summary>
internal struct KnnCandidate
{
    public int Index;
    public float Score;
}

/// <summary>Per-row screening state for one modality: O(rows · k) plus the survivors.</summary>
internal sealed unsafe class KnnCandidates
{
    private readonly int _k;
    private readonly double _window;
    private readonly float[] _best;        // rows × k: the k highest screening scores seen, descending
    private readonly int[] _bestCount;
    private readonly float[] _threshold;   // a score below this cannot make the row's top k
    private readonly KnnCandidate[][] _lists;
    private readonly int[] _counts;

    /// <param name="rows">Rows screened (the non-zero feature rows).</param>
    /// <param name="k">Neighbours per row.</param>
    /// <param name="columns">Feature width F (sets the error window).</param>
    public KnnCandidates(int rows, int k, int columns)
    {
        Rows = rows;
        _k = k;
        _window = 2 * ScreeningError(columns);
        _best = new float[(long)rows * k];
        _bestCount = new int[rows];
        _threshold = GC.AllocateArray<float>(rows + 16, pinned: true);
        _threshold.AsSpan().Fill(float.NegativeInfinity);
        _lists = new KnnCandidate[rows][];
        _counts = new int[rows];
        int initial = 2 * k + 14;
        for (int r = 0; r < rows; r++)
        {
            _lists[r] = new KnnCandidate[initial];
        }
    }

    public int Rows { get; }

    /// <summary>
    /// E: a bound on |f − d| for one pair, f any float32 evaluation of the dot product of two
    /// host-normalized rows (any summation order, fused or not, subnormals flushed or not) and d the
    /// host's float64 evaluation. Rows have norm ≤ 1 + 2⁻²³ (each element of a unit vector rounded
    /// once to float32), so Σ|x_p y_p| ≤ (1 + 2⁻²³)² by Cauchy–Schwarz, and a dot product of F terms
    /// in precision u is within γ_F = F·u / (1 − F·u) of that sum (Higham, Accuracy and Stability of
    /// Numerical Algorithms, §3.1; it holds for every order of the additions). Flushing subnormals
    /// costs at most 2⁻¹²⁶ per operation, 2F operations. Infinite when F·u is not small.
    /// </summary>
    internal static double ScreeningError(int columns)
    {
        double u32 = Math.ScaleB(1.0, -24), u64 = Math.ScaleB(1.0, -53);
        double fu = columns * u32;
        if (fu >= 0.25)
        {
            return double.PositiveInfinity;
        }
        double norms = (1 + Math.ScaleB(1.0, -23)) * (1 + Math.ScaleB(1.0, -23));
        double gamma32 = fu / (1 - fu), gamma64 = columns * u64 / (1 - columns * u64);
        double flush = 2.0 * columns * Math.ScaleB(1.0, -126);
        // A 1 % margin absorbs the rounding of this very expression.
        return 1.01 * ((gamma32 + gamma64) * norms + flush);
    }

    /// <summary>Survivors of <paramref name="row"/> (valid until the next offer to that row).</summary>
    internal ReadOnlySpan<KnnCandidate> Survivors(int row) => _lists[row].AsSpan(0, _counts[row]);

    /// <summary>The current screening threshold of <paramref name="row"/> (−∞ until k columns were seen).</summary>
    internal float Threshold(int row) => _threshold[row];

    /// <summary>
    /// Offers the scores of a block C (rows r0 + [rFrom, rTo) against columns c0 + [cFrom, cTo), C[r·ldc + c]):
    /// with <paramref name="toRows"/> to the block's rows (the diagonal pair r0 + r = c0 + c is skipped), with
    /// <paramref name="toColumns"/> to the block's columns (the same score seen from the other item). Each
    /// row of the state must have a single writer while this runs.
    /// </summary>
    internal void Offer(float* c, int ldc, int r0, int rFrom, int rTo, int c0, int cFrom, int cTo, bool toRows, bool toColumns, SimdTier tier)
    {
        var kernel = new OfferKernel(this, c, ldc, r0, rFrom, rTo, c0, cFrom, cTo, toRows, toColumns);
        SimdDispatch.Run(tier, ref kernel);
    }

    private readonly struct OfferKernel(KnnCandidates state, float* c, int ldc, int r0, int rFrom, int rTo, int c0, int cFrom, int cTo, bool toRows, bool toColumns) : ISimdKernel
    {
        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
            => state.OfferBlock<TVec>(c, ldc, r0, rFrom, rTo, c0, cFrom, cTo, toRows, toColumns);
    }

    [SkipLocalsInit]
    private void OfferBlock<TVec>(float* c, int ldc, int r0, int rFrom, int rTo, int c0, int cFrom, int cTo, bool toRows, bool toColumns)
        where TVec : struct, IFloatVector<TVec>
    {
        fixed (float* threshold = _threshold)
        {
            for (int r = rFrom; r < rTo; r++)
            {
                int row = r0 + r;
                float* line = c + (long)r * ldc;
                int j = cFrom;
                for (; j + TVec.Count <= cTo; j += TVec.Count)
                {
                    OfferChunk<TVec>(threshold, line, row, c0, j, toRows, toColumns);
                }
                if (TVec.Count > 1)
                {
                    for (; j < cTo; j++)
                    {
                        OfferChunk<Float1>(threshold, line, row, c0, j, toRows, toColumns);
                    }
                }
            }
        }
    }

    // Columns c0 + [j, j + Count) of one row: a mask of the scores at or above the row's threshold (toRows) or the
    // column's (toColumns), then each hit offered in column order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void OfferChunk<TVec>(float* threshold, float* line, int row, int c0, int j, bool toRows, bool toColumns)
        where TVec : struct, IFloatVector<TVec>
    {
        TVec v = TVec.Load(line + j);
        ulong bits = 0;
        if (toRows)
        {
            bits = TVec.GreaterOrEqualMask(v, TVec.Splat(threshold[row]));
        }
        if (toColumns)
        {
            bits |= TVec.GreaterOrEqualMask(v, TVec.Load(threshold + c0 + j));
        }
        while (bits != 0)
        {
            int b = BitOperations.TrailingZeroCount(bits);
            bits &= bits - 1;
            OfferPair(row, c0 + j + b, line[j + b], toRows, toColumns);
        }
    }

    private void OfferPair(int row, int column, float score, bool toRows, bool toColumns)
    {
        if (row == column)
        {
            return;
        }
        if (toRows)
        {
            Offer(row, column, score);
        }
        if (toColumns)
        {
            Offer(column, row, score);
        }
    }

    /// <summary>Offers column <paramref name="index"/> with float32 score <paramref name="score"/> to <paramref name="row"/>.</summary>
    internal void Offer(int row, int index, float score)
    {
        if (!(score >= _threshold[row]))
        {
            return;
        }
        int k = _k;
        Span<float> best = _best.AsSpan(row * k, k);
        int count = _bestCount[row];
        if (count < k || score > best[k - 1])
        {
            int at = count < k ? count++ : k - 1;
            while (at > 0 && score > best[at - 1])
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = score;
            _bestCount[row] = count;
            if (count == k)
            {
                _threshold[row] = Lower(best[k - 1]);
            }
        }
        KnnCandidate[] list = _lists[row];
        int n = _counts[row];
        if (n == list.Length)
        {
            n = Compact(row);
            if (n > list.Length / 2)
            {
                Array.Resize(ref _lists[row], list.Length * 2);
            }
            list = _lists[row];
        }
        list[n] = new KnnCandidate { Index = index, Score = score };
        _counts[row] = n + 1;
    }

    /// <summary>Drops the survivors of <paramref name="row"/> that fell below its threshold; returns how many remain.</summary>
    internal int Compact(int row)
    {
        KnnCandidate[] list = _lists[row];
        float t = _threshold[row];
        int kept = 0;
        for (int q = 0; q < _counts[row]; q++)
        {
            if (list[q].Score >= t)
            {
                list[kept++] = list[q];
            }
        }
        _counts[row] = kept;
        return kept;
    }

    // The largest float not above (k-th best − 2E): converting to float rounds to nearest, one step
    // down makes it a lower bound (the double subtraction's own rounding is far below a float step).
    private float Lower(float kth)
    {
        double t = kth - _window;
        return double.IsNegativeInfinity(t) || double.IsNaN(t) ? float.NegativeInfinity : MathF.BitDecrement((float)t);
    }
}
