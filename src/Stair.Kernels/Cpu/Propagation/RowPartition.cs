// Splits the rows of a CSR matrix into parts of roughly equal work. The graphs are
// power-law, so equal row counts would leave one thread with the hubs; the cost of a row
// is its stored entries plus a fixed charge for writing the output row.
namespace Stair.Kernels.Cpu.Propagation;

internal static class RowPartition
{
    // Writing (and for FSC, reading) an output row costs about as much as a couple of
    // gathered entries; the charge keeps long runs of empty rows from landing on one part.
    private const long RowCharge = 2;

    // More parts than threads lets a thread that finishes early take another part.
    private const int PartsPerThread = 4;

    /// <summary>Returns part boundaries (length parts + 1) over rows [0, rows).</summary>
    public static int[] Build(ReadOnlySpan<long> rowPointers, int threads)
    {
        int rows = rowPointers.Length - 1;
        int parts = Math.Max(1, Math.Min(threads * PartsPerThread, rows));
        if (threads == 1)
        {
            parts = 1;
        }
        return Split(rowPointers, parts);
    }

    /// <summary>
    /// Exactly <paramref name="parts"/> contiguous parts of about equal cost (boundaries, length parts + 1); with
    /// more parts than rows some are empty (the distributed plan's ranks without rows).
    /// </summary>
    public static int[] Split(ReadOnlySpan<long> rowPointers, int parts)
    {
        int rows = rowPointers.Length - 1;
        var bounds = new int[parts + 1];
        long total = rowPointers[rows] + RowCharge * rows;
        int row = 0;
        for (int p = 1; p < parts; p++)
        {
            long target = total * p / parts;
            // First row whose cumulative cost reaches the target (cost before row r = ptr[r] + charge·r).
            int lo = row, hi = rows;
            while (lo < hi)
            {
                int mid = (int)(((uint)lo + (uint)hi) >> 1);
                if (rowPointers[mid] + RowCharge * mid < target)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            row = lo;
            bounds[p] = row;
        }
        bounds[parts] = rows;
        return bounds;
    }
}
