// Which stored entries an SpMM may skip. A gather source whose row is all zeros (±0) contributes
// nothing: fma(a, ±0, acc) returns acc exactly for every finite a, because acc is never −0 (it
// starts at +0, and x + (±0) and exact cancellations round to +0). So skipping those entries
// leaves every output bit unchanged while saving their four cache-line loads. It pays off when
// the source is row-sparse: the gradient that BPR scatters into an N × d table touches ~3·B rows,
// and it is the source of the first layer of FSC backward (kernels.md, "Sparse seeds").
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    public static bool MarkIfSparse(float* table, int rows, int width, byte* flags)
    {
        int probe = Math.Max(256, rows / 8);
        int zero = 0;
        for (int r = 0; r < rows; r++)
        {
            bool isZero = IsZero((uint*)table + (long)r * width, width);
            flags[r] = isZero ? (byte)1 : (byte)0;
            zero += isZero ? 1 : 0;
            if (r + 1 == probe && 2 * zero < r + 1)
            {
                return false;
            }
        }
        return 2L * zero >= rows;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsZero(uint* row, int width)
    {
        const uint Magnitude = 0x7FFF_FFFF;
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> any = Vector256<uint>.Zero;
            for (; j + 8 <= width; j += 8)
            {
                any |= Vector256.Load(row + j);
            }
            if ((any & Vector256.Create(Magnitude)) != Vector256<uint>.Zero)
            {
                return false;
            }
        }
        uint rest = 0;
        for (; j < width; j++)
        {
            rest |= row[j];
        }
        return (rest & Magnitude) == 0;
    }
}
