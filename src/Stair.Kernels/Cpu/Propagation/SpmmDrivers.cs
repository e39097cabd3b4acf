// The CSR × dense row loops, one per SIMD tier. For each output row the columns are taken
// in chunks held in registers across the whole row of the sparse matrix (512 → 256 → 128 →
// scalar, so a wide machine still vectorizes the leftover of an odd width), and every chunk
// element is one FMA chain in storage order: acc = fma(a_k, x_k, acc). That order is the
// same at every width, so all tiers agree bit for bit and no thread count changes a result.
// The row loops are compiled fully optimized on first use (AggressiveOptimization): a kernel
// library's first calls should be as fast as its thousandth.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stair.Kernels.Cpu.Propagation;

/// <summary>Raw CSR arrays (pinned by the caller for the duration of a run).</summary>
internal readonly unsafe struct CsrView(int* rowPointers, int* columns, float* values)
{
    public readonly int* RowPointers = rowPointers;
    public readonly int* Columns = columns;
    public readonly float* Values = values;
}

[SkipLocalsInit]
internal static unsafe class SpmmDrivers
{
    /// <summary>Runs rows [rowStart, rowEnd) of A·X with the given tier and epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows<TEpilogue, TFilter>(SimdTier tier, CsrView a, float* x, int width, int rowStart, int rowEnd, TEpilogue epilogue, TFilter filter)
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        switch (tier)
        {
            case SimdTier.Avx512:
                Rows512(a, x, width, rowStart, rowEnd, epilogue, filter);
                break;
            case SimdTier.Avx2:
                Rows256(a, x, width, rowStart, rowEnd, epilogue, filter);
                break;
            default:
                RowsScalar(a, x, width, rowStart, rowEnd, epilogue, filter);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows512<TEpilogue, TFilter>(CsrView a, float* x, int width, int rowStart, int rowEnd, TEpilogue epilogue, TFilter filter)
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        for (int row = rowStart; row < rowEnd; row++)
        {
            int kBegin = a.RowPointers[row], kEnd = a.RowPointers[row + 1];
            int j = 0;
            for (; j + 64 <= width; j += 64)
            {
                Vector512<float> acc0 = Vector512<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
                for (int k = kBegin; k < kEnd; k++)
                {
                    if (filter.Skips(a.Columns[k]))
                    {
                        continue;
                    }
                    var v = Vector512.Create(a.Values[k]);
                    float* xr = x + (long)a.Columns[k] * width + j;
                    acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(xr), v, acc0);
                    acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(xr + 16), v, acc1);
                    acc2 = Vector512.FusedMultiplyAdd(Vector512.Load(xr + 32), v, acc2);
                    acc3 = Vector512.FusedMultiplyAdd(Vector512.Load(xr + 48), v, acc3);
                }
                epilogue.Store(row, j, acc0);
                epilogue.Store(row, j + 16, acc1);
                epilogue.Store(row, j + 32, acc2);
                epilogue.Store(row, j + 48, acc3);
            }
            if (j + 32 <= width)
            {
                Vector512<float> acc0 = Vector512<float>.Zero, acc1 = acc0;
                for (int k = kBegin; k < kEnd; k++)
                {
                    if (filter.Skips(a.Columns[k]))
                    {
                        continue;
                    }
                    var v = Vector512.Create(a.Values[k]);
                    float* xr = x + (long)a.Columns[k] * width + j;
                    acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(xr), v, acc0);
                    acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(xr + 16), v, acc1);
                }
                epilogue.Store(row, j, acc0);
                epilogue.Store(row, j + 16, acc1);
                j += 32;
            }
            if (j + 16 <= width)
            {
                Vector512<float> acc = Vector512<float>.Zero;
                for (int k = kBegin; k < kEnd; k++)
                {
                    if (filter.Skips(a.Columns[k]))
                    {
                        continue;
                    }
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(x + (long)a.Columns[k] * width + j), Vector512.Create(a.Values[k]), acc);
                }
                epilogue.Store(row, j, acc);
                j += 16;
            }
            Tail256(a, x, width, row, kBegin, kEnd, j, epilogue, filter);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows256<TEpilogue, TFilter>(CsrView a, float* x, int width, int rowStart, int rowEnd, TEpilogue epilogue, TFilter filter)
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        for (int row = rowStart; row < rowEnd; row++)
        {
            int kBegin = a.RowPointers[row], kEnd = a.RowPointers[row + 1];
            int j = 0;
            for (; j + 32 <= width; j += 32)
            {
                Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
                for (int k = kBegin; k < kEnd; k++)
                {
                    if (filter.Skips(a.Columns[k]))
                    {
                        continue;
                    }
                    var v = Vector256.Create(a.Values[k]);
                    float* xr = x + (long)a.Columns[k] * width + j;
                    acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(xr), v, acc0);
                    acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(xr + 8), v, acc1);
                    acc2 = Vector256.FusedMultiplyAdd(Vector256.Load(xr + 16), v, acc2);
                    acc3 = Vector256.FusedMultiplyAdd(Vector256.Load(xr + 24), v, acc3);
                }
                epilogue.Store(row, j, acc0);
                epilogue.Store(row, j + 8, acc1);
                epilogue.Store(row, j + 16, acc2);
                epilogue.Store(row, j + 24, acc3);
            }
            if (j + 16 <= width)
            {
                Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0;
                for (int k = kBegin; k < kEnd; k++)
                {
                    if (filter.Skips(a.Columns[k]))
                    {
                        continue;
                    }
                    var v = Vector256.Create(a.Values[k]);
                    float* xr = x + (long)a.Columns[k] * width + j;
                    acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(xr), v, acc0);
                    acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(xr + 8), v, acc1);
                }
                epilogue.Store(row, j, acc0);
                epilogue.Store(row, j + 8, acc1);
                j += 16;
            }
            Tail256(a, x, width, row, kBegin, kEnd, j, epilogue, filter);
        }
    }

    // Columns [j, width) with fewer than 16 left: one 256-bit chunk, one 128-bit chunk, then scalar.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tail256<TEpilogue, TFilter>(CsrView a, float* x, int width, int row, int kBegin, int kEnd, int j, TEpilogue epilogue, TFilter filter)
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        if (j + 8 <= width)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (int k = kBegin; k < kEnd; k++)
            {
                if (filter.Skips(a.Columns[k]))
                {
                    continue;
                }
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + (long)a.Columns[k] * width + j), Vector256.Create(a.Values[k]), acc);
            }
            epilogue.Store(row, j, acc);
            j += 8;
        }
        if (j + 4 <= width)
        {
            Vector128<float> acc = Vector128<float>.Zero;
            for (int k = kBegin; k < kEnd; k++)
            {
                if (filter.Skips(a.Columns[k]))
                {
                    continue;
                }
                acc = Vector128.FusedMultiplyAdd(Vector128.Load(x + (long)a.Columns[k] * width + j), Vector128.Create(a.Values[k]), acc);
            }
            epilogue.Store(row, j, acc);
            j += 4;
        }
        ScalarColumns(a, x, width, row, kBegin, kEnd, j, epilogue, filter);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsScalar<TEpilogue, TFilter>(CsrView a, float* x, int width, int rowStart, int rowEnd, TEpilogue epilogue, TFilter filter)
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        for (int row = rowStart; row < rowEnd; row++)
        {
            ScalarColumns(a, x, width, row, a.RowPointers[row], a.RowPointers[row + 1], 0, epilogue, filter);
        }
    }

    // Four independent scalar chains at a time, then one: the scalar twin of the vector chunks.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarColumns<TEpilogue, TFilter>(CsrView a, float* x, int width, int row, int kBegin, int kEnd, int j, TEpilogue epilogue, TFilter filter)
        where TEpilogue : struct, IRowEpilogue
        where TFilter : struct, IColumnFilter
    {
        for (; j + 4 <= width; j += 4)
        {
            float acc0 = 0f, acc1 = 0f, acc2 = 0f, acc3 = 0f;
            for (int k = kBegin; k < kEnd; k++)
            {
                if (filter.Skips(a.Columns[k]))
                {
                    continue;
                }
                float v = a.Values[k];
                float* xr = x + (long)a.Columns[k] * width + j;
                acc0 = MathF.FusedMultiplyAdd(v, xr[0], acc0);
                acc1 = MathF.FusedMultiplyAdd(v, xr[1], acc1);
                acc2 = MathF.FusedMultiplyAdd(v, xr[2], acc2);
                acc3 = MathF.FusedMultiplyAdd(v, xr[3], acc3);
            }
            epilogue.Store(row, j, acc0);
            epilogue.Store(row, j + 1, acc1);
            epilogue.Store(row, j + 2, acc2);
            epilogue.Store(row, j + 3, acc3);
        }
        for (; j < width; j++)
        {
            float acc = 0f;
            for (int k = kBegin; k < kEnd; k++)
            {
                if (filter.Skips(a.Columns[k]))
                {
                    continue;
                }
                acc = MathF.FusedMultiplyAdd(a.Values[k], x[(long)a.Columns[k] * width + j], acc);
            }
            epilogue.Store(row, j, acc);
        }
    }
}
