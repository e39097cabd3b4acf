// The CSR × dense row loop, written once over the vector types of Cpu/Simd. For each output
// row the columns are taken in chunks held in registers across the whole row of the sparse
// matrix (the tier's width, then 256 → 128 → scalar, so a wide machine still vectorizes the
// leftover of an odd width), and every chunk
// element is one FMA chain in storage order: acc = fma(a_k, x_k, acc). That order is the
// same at every width, so all tiers agree bit for bit and no thread count changes a result.
// The row loop is compiled fully optimized on first use (AggressiveOptimization: a kernel
// library's first calls should be as fast as its thousandth) and never inlined into its
// dispatcher (NoInlining: see KernelBodyCompilationTests). The accumulate step is
// IFloatVector.FmaLoad, which compiles to one FMA with a folded load per vector.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.Propagation;

/// <summary>Raw CSR arrays (pinned, or native memory kept alive, by the caller for the duration of a run); 64-bit row offsets.</summary>
internal readonly unsafe struct CsrView(long* rowOffsets, int* columns, float* values, long nonZeros)
{
    public readonly long NonZeros = nonZeros;
    public readonly long* RowOffsets = rowOffsets;
    public readonly int* Columns = columns;
    public readonly float* Values = values;
}

[SkipLocalsInit]
internal static unsafe class SpmmDrivers
{
    // How many entries ahead the row to gather is prefetched. The gathers of a power-law graph
    // with random ids miss every cache; the out-of-order window alone keeps about 20 of them in
    // flight, a software prefetch this far ahead keeps the memory system busy past it (kernels.md,
    // "Propagation floor": distances 8-128 measured, 48-64 fastest on 2 threads).
    internal const int PrefetchAhead = 48;

    /// <summary>Runs rows [rowStart, rowEnd) of A·X with the given tier and epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows<TEpilogue, TFilter>(SimdTier tier, CsrView a, float* x, int width, int rowStart, int rowEnd, TEpilogue epilogue, TFilter filter)
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        var kernel = new RowsKernel<TEpilogue, TFilter>(a, x, width, rowStart, rowEnd, epilogue, filter);
        SimdDispatch.Run(tier, ref kernel);
    }

    private readonly struct RowsKernel<TEpilogue, TFilter>(CsrView a, float* x, int width, int rowStart, int rowEnd, TEpilogue epilogue, TFilter filter) : ISimdKernel
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        private readonly CsrView _a = a;
        private readonly float* _x = x;
        private readonly int _width = width, _rowStart = rowStart, _rowEnd = rowEnd;
        private readonly TEpilogue _epilogue = epilogue;
        private readonly TFilter _filter = filter;

        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
            => Rows<TVec, TEpilogue, TFilter>(_a, _x, _width, _rowStart, _rowEnd, _epilogue, _filter);
    }

    // Chunks of 4, 2 and 1 vectors of the tier's width W, then one 256-bit and one 128-bit chunk
    // (wide tiers), then scalar columns four chains at a time and one by one.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TVec, TEpilogue, TFilter>(CsrView a, float* x, int width, int rowStart, int rowEnd, TEpilogue epilogue, TFilter filter)
        where TVec : struct, IFloatVector<TVec>
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        int w = TVec.Count;
        for (int row = rowStart; row < rowEnd; row++)
        {
            nint kBegin = (nint)a.RowOffsets[row], kEnd = (nint)a.RowOffsets[row + 1];
            int j = 0;
            for (; j + 4 * w <= width; j += 4 * w)
            {
                Chunk<TVec, TEpilogue, TFilter>(4, a, x, width, row, kBegin, kEnd, j, epilogue, filter);
            }
            if (w > 1 && j + 2 * w <= width)
            {
                Chunk<TVec, TEpilogue, TFilter>(2, a, x, width, row, kBegin, kEnd, j, epilogue, filter);
                j += 2 * w;
            }
            if (w > 8 && j + w <= width)
            {
                Chunk<TVec, TEpilogue, TFilter>(1, a, x, width, row, kBegin, kEnd, j, epilogue, filter);
                j += w;
            }
            if (w >= 8)
            {
                if (j + 8 <= width)
                {
                    Chunk<Float256, TEpilogue, TFilter>(1, a, x, width, row, kBegin, kEnd, j, epilogue, filter);
                    j += 8;
                }
                if (j + 4 <= width)
                {
                    Chunk<Float128, TEpilogue, TFilter>(1, a, x, width, row, kBegin, kEnd, j, epilogue, filter);
                    j += 4;
                }
            }
            for (; j + 4 <= width; j += 4)
            {
                Chunk<Float1, TEpilogue, TFilter>(4, a, x, width, row, kBegin, kEnd, j, epilogue, filter);
            }
            for (; j < width; j++)
            {
                Chunk<Float1, TEpilogue, TFilter>(1, a, x, width, row, kBegin, kEnd, j, epilogue, filter);
            }
        }
    }

    // Columns [j, j + vectors·W) of one output row (vectors = 1, 2 or 4, a constant at each call): that many
    // accumulators held across the row's entries.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk<TVec, TEpilogue, TFilter>(int vectors, CsrView a, float* x, int width, int row, nint kBegin, nint kEnd, int j, TEpilogue epilogue, TFilter filter)
        where TVec : struct, IFloatVector<TVec>
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        int w = TVec.Count;
        TVec acc0 = TVec.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        // Native-width indices and a hoisted row base keep the body at one sign extension, one
        // multiply and one add per entry besides the loads: every instruction saved is room in the
        // out-of-order window for another row gather in flight (kernels.md, "Propagation floor").
        nint stride = width;
        float* xj = x + j;
        int* columns = a.Columns;
        float* values = a.Values;
        nint k = kBegin, end = kEnd;
        // Entries whose look-ahead entry lies inside the column array prefetch that entry's rows;
        // the look-ahead runs on into the next rows, which are the next to be gathered. A filtered
        // product (the first layer over a row-sparse seed) gathers few rows and does not prefetch:
        // the look-ahead's flag test and branch cost more than the rare miss they would hide
        // (Baby, FSC sparse input: 2.2 ms with it, 1.7 without; FSC dense input 1.6).
        nint prefetched = typeof(TFilter) == typeof(AllColumns) ? Math.Min(end, (nint)(a.NonZeros - PrefetchAhead)) : kBegin;
        for (; k < prefetched; k++)
        {
            int ahead = columns[k + PrefetchAhead];
            if (!filter.Skips(ahead))
            {
                Prefetch(vectors * w, xj + ahead * stride); // a row the filter skips is never read: fetching it is wasted bandwidth
            }
            Accumulate(vectors, columns + k, values + k, xj, stride, filter, ref acc0, ref acc1, ref acc2, ref acc3);
        }
        for (; k < end; k++)
        {
            Accumulate(vectors, columns + k, values + k, xj, stride, filter, ref acc0, ref acc1, ref acc2, ref acc3);
        }
        epilogue.Store(row, j, acc0);
        if (vectors >= 2)
        {
            epilogue.Store(row, j + w, acc1);
        }
        if (vectors == 4)
        {
            epilogue.Store(row, j + 2 * w, acc2);
            epilogue.Store(row, j + 3 * w, acc3);
        }
    }

    // One entry of a chunk (pointers, so the loads fold into the instructions that use them): acc_v = fma(value, x[column, j + v·W ..], acc_v) for each of the chunk's vectors.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<TVec, TFilter>(int vectors, int* entryColumn, float* entryValue, float* xj, nint stride, TFilter filter,
        ref TVec acc0, ref TVec acc1, ref TVec acc2, ref TVec acc3)
        where TVec : struct, IFloatVector<TVec>
        where TFilter : struct, IColumnFilter
    {
        int column = *entryColumn;
        if (filter.Skips(column))
        {
            return;
        }
        int w = TVec.Count;
        TVec v = TVec.Splat(*entryValue);
        float* xr = xj + column * stride;
        TVec.FmaLoad(ref acc0, xr, v);
        if (vectors >= 2)
        {
            TVec.FmaLoad(ref acc1, xr + w, v);
        }
        if (vectors == 4)
        {
            TVec.FmaLoad(ref acc2, xr + 2 * w, v);
            TVec.FmaLoad(ref acc3, xr + 3 * w, v);
        }
    }

    // Prefetches the cache lines of a chunk of `floats` floats (at most 256 bytes) starting at p.
    // The hardware prefetchers cannot guess a gather's next row; the values do not depend on it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(int floats, float* p)
    {
        if (!Sse.IsSupported)
        {
            return;
        }
        Sse.Prefetch0(p);
        if (floats > 16)
        {
            Sse.Prefetch0(p + 16);
        }
        if (floats > 32)
        {
            Sse.Prefetch0(p + 32);
        }
        if (floats > 48)
        {
            Sse.Prefetch0(p + 48);
        }
    }
}
