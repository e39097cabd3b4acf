// Where whitening's large products run. The solver (WhiteningSolver) only ever asks for
// "C = A·Bᵀ" (the shared NT product), "C = A·Aᵀ" and the centered features with their
// transpose; the thin d×d-sized algebra stays on the host in float64. One implementation
// per backend family: the SIMD CPU (DenseProduct) and an ILGPU accelerator (DenseKernels).
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Stair.Kernels.Cpu;

namespace Stair.Kernels.WhiteningCore;

/// <summary>A row-major rows × columns float32 matrix living on a <see cref="WhiteningDevice"/>.</summary>
internal abstract class DenseOperand : IDisposable
{
    protected DenseOperand(int rows, int columns)
    {
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }

    public int Columns { get; }

    public virtual void Dispose()
    {
    }
}

internal abstract class WhiteningDevice : IDisposable
{
    /// <summary>The column-centered features X_c (rows × columns) and X_cᵀ (columns × rows).</summary>
    public abstract (DenseOperand Centered, DenseOperand Transposed) LoadCentered(ReadOnlyMemory<float> features, int rows, int columns);

    /// <summary>Copies a host matrix to the device.</summary>
    public abstract DenseOperand Upload(float[] data, int rows, int columns);

    /// <summary>The matrix's elements on the host (may be the operand's own storage: read only).</summary>
    public abstract float[] Download(DenseOperand operand);

    /// <summary>C = A·Bᵀ (A.Rows × B.Rows); A and B share the inner dimension.</summary>
    public abstract DenseOperand Product(DenseOperand a, DenseOperand b);

    /// <summary>C = A·Aᵀ, exactly symmetric.</summary>
    public abstract DenseOperand Gram(DenseOperand a);

    public virtual void Dispose()
    {
    }
}

/// <summary>The SIMD CPU backend: host arrays, the shared DenseProduct on every thread.</summary>
internal sealed unsafe class CpuWhiteningDevice(SimdTier tier, int threads) : WhiteningDevice
{
    public int Threads => threads;

    // Buffers come from the shared array pool and go back when the operand is disposed: on a VM a fresh
    // multi-megabyte array costs a page fault per 4 KiB on first touch (measured ~60 ms for 11 MB here), more
    // than the products that fill it. Pooled arrays may be longer than rows × columns; every user slices.
    private sealed class HostOperand(float[] data, int rows, int columns, bool pooled) : DenseOperand(rows, columns)
    {
        private bool _returned;

        public float[] Data { get; } = data;

        public override void Dispose()
        {
            if (pooled && !_returned)
            {
                _returned = true;
                System.Buffers.ArrayPool<float>.Shared.Return(Data);
            }
        }
    }

    private static float[] Rent(long length) => System.Buffers.ArrayPool<float>.Shared.Rent((int)Math.Max(1, length));

    private static float[] Data(DenseOperand operand) => ((HostOperand)operand).Data;

    public override (DenseOperand Centered, DenseOperand Transposed) LoadCentered(ReadOnlyMemory<float> features, int rows, int columns)
    {
        float[] centered = Rent((long)rows * columns);
        float[] transposed = Rent((long)rows * columns);
        var job = new CenterJob(features, centered, transposed, rows, columns);
        CpuWorkerPool.Shared.Run(job, threads);
        job.Finish(threads);
        return (new HostOperand(centered, rows, columns, true), new HostOperand(transposed, columns, rows, true));
    }

    public override DenseOperand Upload(float[] data, int rows, int columns) => new HostOperand(data, rows, columns, false);

    public override float[] Download(DenseOperand operand) => Data(operand);

    public override DenseOperand Product(DenseOperand a, DenseOperand b)
    {
        float[] c = Rent((long)a.Rows * b.Rows);
        if ((long)a.Rows * b.Rows > 0)
        {
            if (a.Columns > 0)
            {
                fixed (float* pa = Data(a), pb = Data(b), pc = c)
                {
                    Cpu.Dense.DenseProduct.MultiplyTransposed(tier, threads, pa, a.Columns, pb, b.Columns, pc, b.Rows, a.Rows, b.Rows, a.Columns);
                }
            }
            else
            {
                c.AsSpan(0, a.Rows * b.Rows).Clear();
            }
        }
        return new HostOperand(c, a.Rows, b.Rows, true);
    }

    public override DenseOperand Gram(DenseOperand a)
    {
        float[] c = Rent((long)a.Rows * a.Rows);
        if (a.Rows > 0)
        {
            fixed (float* pa = Data(a), pc = c)
            {
                Cpu.Dense.DenseProduct.MultiplySelfTransposed(tier, threads, pa, a.Columns, pc, a.Rows, a.Rows, a.Columns);
            }
        }
        return new HostOperand(c, a.Rows, a.Rows, true);
    }

    // to[k·ldt + j] = from[j·ldf + k] for an 8 × 8 block (the classic unpack / shuffle / 128-bit permute sequence).
    private static void Transpose8(float* from, int ldf, float* to, int ldt)
    {
        Vector256<float> r0 = Avx.LoadVector256(from), r1 = Avx.LoadVector256(from + ldf), r2 = Avx.LoadVector256(from + 2L * ldf),
            r3 = Avx.LoadVector256(from + 3L * ldf), r4 = Avx.LoadVector256(from + 4L * ldf), r5 = Avx.LoadVector256(from + 5L * ldf),
            r6 = Avx.LoadVector256(from + 6L * ldf), r7 = Avx.LoadVector256(from + 7L * ldf);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3),
            t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE),
            u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(to, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(to + ldt, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(to + 2L * ldt, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(to + 3L * ldt, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(to + 4L * ldt, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(to + 5L * ldt, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(to + 6L * ldt, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(to + 7L * ldt, Avx.Permute2x128(u3, u7, 0x31));
    }

    // Two phases: column means in float64 over column blocks (rows in order, so any thread count gives the same
    // means), then row blocks write the centered rows and, tile by tile, the transposed copy.
    private sealed class CenterJob : ParallelJob
    {
        private const int ColumnBlock = 256, RowBlock = 64, Tile = 64;
        private readonly ReadOnlyMemory<float> _features;
        private readonly float[] _centered, _transposed;
        private readonly int _rows, _columns;
        private readonly float[] _means;
        private bool _secondPhase;

        public CenterJob(ReadOnlyMemory<float> features, float[] centered, float[] transposed, int rows, int columns)
        {
            _features = features;
            _centered = centered;
            _transposed = transposed;
            _rows = rows;
            _columns = columns;
            _means = new float[columns];
            PartCount = (columns + ColumnBlock - 1) / ColumnBlock;
        }

        public void Finish(int threads)
        {
            _secondPhase = true;
            PartCount = (_rows + RowBlock - 1) / RowBlock;
            CpuWorkerPool.Shared.Run(this, threads);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public override void Execute(int part)
        {
            ReadOnlySpan<float> x = _features.Span;
            if (!_secondPhase)
            {
                int c0 = part * ColumnBlock, width = Math.Min(_columns, c0 + ColumnBlock) - c0;
                Span<double> sums = stackalloc double[ColumnBlock];
                sums.Clear();
                int w = System.Numerics.Vector<float>.Count, half = w / 2;
                for (int i = 0; i < _rows; i++)
                {
                    ReadOnlySpan<float> row = x.Slice(i * _columns + c0, width);
                    int c = 0;
                    // Each lane is one column's float64 sum over the rows in order: the same bits as the scalar loop.
                    for (; c <= width - w; c += w)
                    {
                        System.Numerics.Vector.Widen(new System.Numerics.Vector<float>(row.Slice(c)), out System.Numerics.Vector<double> lo, out System.Numerics.Vector<double> hi);
                        (new System.Numerics.Vector<double>(sums.Slice(c)) + lo).CopyTo(sums.Slice(c));
                        (new System.Numerics.Vector<double>(sums.Slice(c + half)) + hi).CopyTo(sums.Slice(c + half));
                    }
                    for (; c < width; c++)
                    {
                        sums[c] += row[c];
                    }
                }
                for (int c = 0; c < width; c++)
                {
                    _means[c0 + c] = (float)(sums[c] / _rows);
                }
                return;
            }
            int i0 = part * RowBlock, i1 = Math.Min(_rows, i0 + RowBlock);
            for (int t0 = 0; t0 < _columns; t0 += Tile)
            {
                int t1 = Math.Min(_columns, t0 + Tile);
                int w = System.Numerics.Vector<float>.Count;
                for (int i = i0; i < i1; i++)
                {
                    int at = i * _columns;
                    int c = t0;
                    for (; c <= t1 - w; c += w)
                    {
                        (new System.Numerics.Vector<float>(x.Slice(at + c)) - new System.Numerics.Vector<float>(_means, c)).CopyTo(_centered, at + c);
                    }
                    for (; c < t1; c++)
                    {
                        _centered[at + c] = x[at + c] - _means[c];
                    }
                }
                fixed (float* pc = _centered, pt = _transposed)
                {
                    // 8 × 8 blocks through AVX registers: a scalar column walk touches a different page per element
                    // (rows are F floats apart), a block one per eight; edges element by element.
                    int full = Avx.IsSupported ? (i1 - i0) / 8 * 8 : 0, fullColumns = Avx.IsSupported ? (t1 - t0) / 8 * 8 : 0;
                    for (int c = t0; c < t0 + fullColumns; c += 8)
                    {
                        for (int i = i0; i < i0 + full; i += 8)
                        {
                            Transpose8(pc + (long)i * _columns + c, _columns, pt + (long)c * _rows + i, _rows);
                        }
                    }
                    for (int c = t0; c < t1; c++)
                    {
                        float* to = pt + (long)c * _rows;
                        int iStart = c < t0 + fullColumns ? i0 + full : i0;
                        float* from = pc + (long)iStart * _columns + c;
                        for (int i = iStart; i < i1; i++, from += _columns)
                        {
                            to[i] = *from;
                        }
                    }
                }
            }
        }
    }
}
