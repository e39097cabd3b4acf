// Where whitening's large products run. The solver (WhiteningSolver) only ever asks for
// "C = A·Bᵀ" (the shared NT product), "C = A·Aᵀ" and the centered features with their
// transpose; the thin d×d-sized algebra stays on the host in float64. One implementation
// per backend family: the SIMD CPU (DenseProduct) and an ILGPU accelerator (DenseKernels).
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.WhiteningAlgebra;

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
    /// <summary>The resolved SIMD tier of the host-side algebra (thin products, eigensolver) that goes with this device.</summary>
    public abstract SimdTier HostTier { get; }

    /// <summary>Threads for the host-side algebra.</summary>
    public abstract int HostThreads { get; }

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

    /// <summary>
    /// α·A + β·B + γ·C for operands of one shape (<paramref name="c"/> may be null when γ = 0), as
    /// <see cref="HostMatrixOps.Combine"/>: on the host by default (n × ℓ blocks, a few MB at most).
    /// </summary>
    public virtual DenseOperand Combine(DenseOperand a, double alpha, DenseOperand b, double beta, DenseOperand? c, double gamma)
    {
        int length = a.Rows * a.Columns;
        var r = new float[length];
        HostMatrixOps.Combine(Download(a), (float)alpha, Download(b), (float)beta, c is null ? [] : Download(c), c is null ? 0f : (float)gamma, r);
        return Upload(r, a.Rows, a.Columns);
    }

    public virtual void Dispose()
    {
    }
}

/// <summary>The SIMD CPU backend: host arrays, the shared DenseProduct on every thread.</summary>
internal sealed unsafe class CpuWhiteningDevice(SimdTier tier, int threads) : WhiteningDevice
{
    public override SimdTier HostTier => tier;

    public override int HostThreads => threads;

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
        var job = new CenterJob(features, centered, transposed, rows, columns, tier);
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

    public override DenseOperand Combine(DenseOperand a, double alpha, DenseOperand b, double beta, DenseOperand? c, double gamma)
    {
        int length = a.Rows * a.Columns;
        float[] r = Rent(length);
        HostMatrixOps.Combine(Data(a).AsSpan(0, length), (float)alpha, Data(b).AsSpan(0, length), (float)beta,
            c is null ? [] : Data(c).AsSpan(0, length), c is null ? 0f : (float)gamma, r.AsSpan(0, length));
        return new HostOperand(r, a.Rows, a.Columns, true);
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

    // Two phases: column means in float64 over column blocks (rows in order, so any thread count gives the same
    // means), then row blocks write the centered rows and, tile by tile, the transposed copy.
    private sealed class CenterJob : ParallelJob, ISimdParts
    {
        private const int ColumnBlock = 256, RowBlock = 64, Tile = 64;
        private readonly ReadOnlyMemory<float> _features;
        private readonly float[] _centered, _transposed;
        private readonly int _rows, _columns;
        private readonly float[] _means;
        private bool _secondPhase;

        private readonly SimdTier _tier;

        public CenterJob(ReadOnlyMemory<float> features, float[] centered, float[] transposed, int rows, int columns, SimdTier tier)
        {
            _tier = tier;
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

        public override void Execute(int part) => SimdDispatch.RunPart(_tier, this, part);

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void ExecutePart<TVec, TDouble>(int part)
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            fixed (float* x = _features.Span, pc = _centered, pt = _transposed, means = _means)
            {
                if (!_secondPhase)
                {
                    int c0 = part * ColumnBlock, width = Math.Min(_columns, c0 + ColumnBlock) - c0;
                    double* sums = stackalloc double[ColumnBlock];
                    new Span<double>(sums, ColumnBlock).Clear();
                    for (int i = 0; i < _rows; i++)
                    {
                        float* row = x + (long)i * _columns + c0;
                        int c = 0;
                        // Each lane is one column's float64 sum over the rows in order: the same bits at every width.
                        for (; c + TDouble.Count <= width; c += TDouble.Count)
                        {
                            TDouble.Store(TDouble.Add(TDouble.Load(sums + c), TDouble.LoadWidened(row + c)), sums + c);
                        }
                        for (; c < width; c++)
                        {
                            sums[c] += row[c];
                        }
                    }
                    for (int c = 0; c < width; c++)
                    {
                        means[c0 + c] = (float)(sums[c] / _rows);
                    }
                    return;
                }
                int i0 = part * RowBlock, i1 = Math.Min(_rows, i0 + RowBlock);
                for (int t0 = 0; t0 < _columns; t0 += Tile)
                {
                    int t1 = Math.Min(_columns, t0 + Tile);
                    for (int i = i0; i < i1; i++)
                    {
                        long at = (long)i * _columns;
                        int c = t0;
                        for (; c + TVec.Count <= t1; c += TVec.Count)
                        {
                            TVec.Store(TVec.Sub(TVec.Load(x + at + c), TVec.Load(means + c)), pc + at + c);
                        }
                        for (; c < t1; c++)
                        {
                            pc[at + c] = x[at + c] - means[c];
                        }
                    }
                    // 8 × 8 blocks: a plain column walk touches a different page per element (rows are F floats apart),
                    // a block one per eight; edges element by element.
                    int full = (i1 - i0) / 8 * 8, fullColumns = (t1 - t0) / 8 * 8;
                    for (int c = t0; c < t0 + fullColumns; c += 8)
                    {
                        for (int i = i0; i < i0 + full; i += 8)
                        {
                            TVec.Transpose8x8(pc + (long)i * _columns + c, _columns, pt + (long)c * _rows + i, _rows);
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
