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
    /// first eighth of the rows shows the table is mostly non-zero, so a dense table costs ~1/8 of a read.
    /// A row holding NaN or ±∞ is not zero.
    /// </summary>
    public static bool MarkIfSparse(SimdTier tier, float* table, int rows, int width, byte* flags)
    {
        var kernel = new MarkKernel { Table = table, Rows = rows, Width = width, Flags = flags };
        SimdDispatch.Run(tier, ref kernel);
        return kernel.Sparse;
    }

    private struct MarkKernel : ISimdKernel
    {
        public float* Table;
        public int Rows, Width;
        public byte* Flags;
        public bool Sparse;

        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            int rows = Rows, width = Width;
            int probe = Math.Max(256, rows / 8);
            int zero = 0;
            for (int r = 0; r < rows; r++)
            {
                bool isZero = IsZero<TVec>(Table + (long)r * width, width);
                Flags[r] = isZero ? (byte)1 : (byte)0;
                zero += isZero ? 1 : 0;
                if (r + 1 == probe && 2 * zero < r + 1)
                {
                    Sparse = false;
                    return;
                }
            }
            Sparse = 2L * zero >= rows;
        }
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
