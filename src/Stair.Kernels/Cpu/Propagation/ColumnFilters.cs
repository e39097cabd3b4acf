// Which stored entries an SpMM may skip. A gather source whose row is all zeros (±0) contributes
// nothing: fma(a, ±0, acc) returns acc exactly for every finite a, because acc is never −0 (it
// starts at +0, and x + (±0) and exact cancellations round to +0). So skipping those entries
// leaves every output bit unchanged while saving their four cache-line loads. It pays off when
// the source is row-sparse: the gradient that BPR scatters into an N × d table touches ~3·B rows,
// and it is the source of the first layer of FSC backward (kernels.md, "Sparse seeds").
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.Propagation;

/// <summary>Decides, per stored entry's column, whether its gathered row may be skipped.</summary>
internal interface IColumnFilter
{
    bool Skips(int column);
}

/// <summary>Every entry is gathered (the JIT removes the test).</summary>
internal readonly struct AllColumns : IColumnFilter
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Skips(int column) => false;
}

/// <summary>Entries whose source row is marked all-zero are skipped.</summary>
internal readonly unsafe struct SkipZeroRows(byte* zeroRows) : IColumnFilter
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Skips(int column) => zeroRows[column] != 0;
}

internal static unsafe class ZeroRows
{
    /// <summary>
    /// Marks the all-zero rows of a rows × width table in <paramref name="flags"/> (1 = zero) and returns
    /// true when at least half the rows are zero. Gives up early (returns false, flags partial) once the
    /// first eighth of the rows shows the table is mostly non-zero, so a dense table costs ~1/8 of a read;
    /// a sparse one is then read in full, the rest of it on <paramref name="threads"/> threads (a read of
    /// the table costs about as much as the gathers the skip saves, so it must go at the machine's bandwidth).
    /// A row holding NaN or ±∞ is not zero.
    /// </summary>
    public static bool MarkIfSparse(SimdTier tier, float* table, int rows, int width, byte* flags, int threads)
    {
        int probe = Math.Min(rows, Math.Max(256, rows / 8));
        long zero = Mark(tier, table, 0, probe, width, flags);
        if (2 * zero < probe)
        {
            return false;
        }
        if (probe < rows)
        {
            MarkJob job = MarkJob.ForCurrentThread(tier, table, probe, rows, width, flags, threads);
            CpuWorkerPool.Shared.Run(job, threads);
            zero += job.Zeros;
        }
        return 2 * zero >= rows;
    }

    /// <summary>Marks rows [start, end) and returns how many are zero.</summary>
    private static int Mark(SimdTier tier, float* table, int start, int end, int width, byte* flags)
    {
        var kernel = new MarkKernel { Table = table, Start = start, End = end, Width = width, Flags = flags };
        SimdDispatch.Run(tier, ref kernel);
        return kernel.Zeros;
    }

    // Rows [Start, End) in equal parts (a row costs the same whatever it holds).
    private sealed class MarkJob : ParallelJob
    {
        [ThreadStatic]
        private static MarkJob? _cached;

        private SimdTier _tier;
        private float* _table;
        private byte* _flags;
        private int _start, _end, _width;
        private long _zeros;

        public long Zeros => _zeros;

        public static MarkJob ForCurrentThread(SimdTier tier, float* table, int start, int end, int width, byte* flags, int threads)
        {
            MarkJob job = _cached ??= new MarkJob();
            job._tier = tier;
            job._table = table;
            job._flags = flags;
            job._start = start;
            job._end = end;
            job._width = width;
            job._zeros = 0;
            job.PartCount = Math.Max(1, Math.Min(4 * threads, (end - start) / 256));
            return job;
        }

        public override void Execute(int part)
        {
            long rows = _end - _start;
            int from = _start + (int)(rows * part / PartCount), to = _start + (int)(rows * (part + 1) / PartCount);
            Interlocked.Add(ref _zeros, Mark(_tier, _table, from, to, _width, _flags));
        }
    }

    private struct MarkKernel : ISimdKernel
    {
        public float* Table;
        public int Start, End, Width;
        public byte* Flags;
        public int Zeros;

        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
            => Zeros = MarkRows<TVec>(Table, Start, End, Width, Flags);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int MarkRows<TVec>(float* table, int start, int end, int width, byte* flags)
        where TVec : struct, IFloatVector<TVec>
    {
        int zero = 0;
        for (int r = start; r < end; r++)
        {
            bool isZero = IsZero<TVec>(table + (long)r * width, width);
            flags[r] = isZero ? (byte)1 : (byte)0;
            zero += isZero ? 1 : 0;
        }
        return zero;
    }

    // The OR of the row's bit patterns has no magnitude bit exactly when every element is ±0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsZero<TVec>(float* row, int width)
        where TVec : struct, IFloatVector<TVec>
    {
        int j = 0;
        if (TVec.Count > 1)
        {
            TVec any = TVec.Zero;
            for (; j + TVec.Count <= width; j += TVec.Count)
            {
                any = TVec.OrBits(any, TVec.Load(row + j));
            }
            if (!TVec.AllSignedZero(any))
            {
                return false;
            }
        }
        Float1 rest = Float1.Zero;
        for (; j < width; j++)
        {
            rest = Float1.OrBits(rest, Float1.Load(row + j));
        }
        return Float1.AllSignedZero(rest);
    }
}
